# cron tests
