from tests.e2e.harness import running_platform  # noqa: F401 - fixture for every e2e test
