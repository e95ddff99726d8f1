"""The ``/clientes`` resource: customers."""
