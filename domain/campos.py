"""Field-by-field validation shared by every resource's ``normalizar_campos``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from domain.errors import DadosInvalidos

Regra = Callable[[object], object]
OBRIGATORIO = "Campo obrigatório."


def validar(
    dados: Mapping,
    regras: Mapping[str, Regra],
    *,
    obrigatorios: tuple[str, ...],
    completo: bool,
    nao_nulos: tuple[str, ...] = (),
) -> dict:
    """Apply ``regras`` to ``dados`` and return the normalized values.

    ``completo=True`` (create, replace) requires every field of ``obrigatorios``;
    ``False`` (patch) checks only what is present. ``None`` clears an optional field,
    except for ``obrigatorios`` and ``nao_nulos``. Unknown fields are refused. All
    errors are collected so that the client sees every problem in one answer.
    """
    erros: dict[str, list[str]] = {}
    saida: dict = {}
    for campo in sorted(set(dados) - set(regras)):
        erros[campo] = ["Campo desconhecido."]
    if completo:
        for campo in obrigatorios:
            if dados.get(campo) is None:
                erros[campo] = [OBRIGATORIO]
    for campo, regra in regras.items():
        if campo not in dados or campo in erros:
            continue
        valor = dados[campo]
        if valor is None:
            if campo in obrigatorios or campo in nao_nulos:
                erros[campo] = [OBRIGATORIO]
            else:
                saida[campo] = None
            continue
        try:
            saida[campo] = regra(valor)
        except DadosInvalidos as exc:
            erros.update(exc.errors)
    if erros:
        raise DadosInvalidos(erros)
    return saida
