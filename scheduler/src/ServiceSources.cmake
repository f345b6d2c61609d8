# Scheduler service sources of vivarium_scheduler.
