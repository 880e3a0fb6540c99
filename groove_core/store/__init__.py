"""The store layer: the only place where Datalog lives."""
