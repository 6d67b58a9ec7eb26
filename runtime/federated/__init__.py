"""Federated learning simulated in one process: partitions, aggregation, privacy, rounds.

Qt-free. `runtime.runs.kinds.federated` and `deepwire federate` drive
`simulation.FederatedSimulation`; the other modules are its parts, each
testable alone.
"""
