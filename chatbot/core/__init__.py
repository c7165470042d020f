"""The core: models, periods, request grammar, report model, ports, errors, service."""
