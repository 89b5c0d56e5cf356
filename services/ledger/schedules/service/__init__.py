"""Schedules: the operator's use cases (`schedules`), what each run does (`operations`),
and the leader that runs them (`runner`)."""
