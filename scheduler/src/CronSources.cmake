# Cron parser sources of vivarium_scheduler (the parser lands with the scheduler issue).
