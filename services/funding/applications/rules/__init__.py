"""Pure rules of applications: the workflow's transition table and the audit hash chain."""
