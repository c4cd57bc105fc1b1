"""Deploy tooling: bootstrap, deploy, publish, smoke test and teardown of a stack."""
