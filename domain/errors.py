"""Exceptions the domain and the service layer raise; adapters map them to HTTP or retries."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a rule of the business refused an operation."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NaoEncontrado(DomainError):
    """The resource does not exist (or is hidden)."""


class Conflito(DomainError):
    """The operation clashes with existing state (e.g. a duplicate e-mail)."""


class VersaoDesatualizada(DomainError):
    """The caller's version of the resource is not the current one (optimistic lock)."""


class DadosInvalidos(DomainError):
    """Input breaks an invariant; ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]], message: str = "Dados inválidos."):
        super().__init__(message, errors)
