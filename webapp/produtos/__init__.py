"""The ``/produtos`` resource: the public catalogue."""
