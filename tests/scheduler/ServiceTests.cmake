# service tests
