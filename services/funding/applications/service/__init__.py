"""Use cases of applications: `base` (an application as its reader may see it, its audit
trail), `filing` (drafts, lists, audit reads) and `workflow` (transitions)."""
