# Cron expressions: parsing, next fire times across DST (checked against a simulation of
# cronie's main loop), explain(); and the `vivarium cron` commands through the real binary.
vivarium_add_test(tst_cronexpression SOURCES tst_CronExpression.cpp LIBS vivarium_scheduler
                  LABELS unit)
vivarium_add_test(tst_croncli SOURCES tst_CronCli.cpp LIBS vivarium_core LABELS integration
                  TIMEOUT 300)
add_dependencies(tst_croncli vivarium)
