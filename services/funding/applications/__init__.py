"""Grant applications: filing, the workflow state machine and its hash-chained audit trail."""
