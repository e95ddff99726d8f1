"""The drill's arithmetic (``bench.drill_contas``): lost, duplicated, redelivered, last wins.

``make drill`` itself runs for minutes against a real stack and is not part of ``make test``;
what it reports is only as good as these counts.
"""

import json

from bench.drill_contas import (
    PUBSUB,
    STREAM,
    Linha,
    Processado,
    Publicado,
    contar,
    ler_processados,
    primeiro_depois,
    processado_de,
    tabela,
    visivel,
)


def _stream(n: int, crm_id: int = 1, t0: float = 0.0) -> list[Publicado]:
    return [Publicado(crm_id, 1000 + i, t0 + i, event_id=f"s-{i}-0") for i in range(1, n + 1)]


def test_every_stream_entry_applied_once_is_neither_lost_nor_duplicated():
    pubs = _stream(4)
    procs = [Processado(p.event_id, 1, "aplicado") for p in pubs]
    li = contar(Linha("x", ""), STREAM, pubs, procs, {1: 1004})
    assert (li.publicados, li.aplicados, li.perdidos, li.duplicados, li.reentregues) == (4, 4, 0, 0, 0)
    assert (li.ultimo_ok, li.produtos) == (1, 1)


def test_a_stream_entry_superseded_counts_as_applied_and_a_redelivery_is_not_a_duplicate():
    pubs = _stream(3)
    procs = [
        Processado("s-1-0", 1, "obsoleto"),  # overtaken by entry 2 in a parallel worker
        Processado("s-2-0", 1, "aplicado"),
        Processado("s-3-0", 1, "aplicado"),
        Processado("s-3-0", 1, "obsoleto"),  # redelivered after a killed pool process
    ]
    li = contar(Linha("x", ""), STREAM, pubs, procs, {1: 1003})
    assert (li.aplicados, li.perdidos, li.duplicados, li.reentregues) == (3, 0, 0, 1)


def test_a_stream_entry_written_twice_is_a_duplicate_and_one_never_handled_is_lost():
    pubs = _stream(3)
    procs = [Processado("s-1-0", 1, "aplicado"), Processado("s-1-0", 1, "aplicado"), Processado("s-2-0", 1, "aplicado")]
    li = contar(Linha("x", ""), STREAM, pubs, procs, {1: 1002})
    assert (li.aplicados, li.perdidos, li.esperados, li.duplicados) == (2, 1, 0, 1)
    assert li.ultimo_ok == 0  # its last event (1003) never landed


def test_a_stream_entry_is_never_an_expected_loss_and_its_resend_counts_as_a_redelivery():
    pubs = _stream(3)  # the CRM sends lost entries again under their ids (reenvio_de)
    procs = [Processado("s-1-0", 1, "aplicado"), Processado("s-1-0", 1, "obsoleto"), Processado("s-3-0", 1, "aplicado")]
    li = contar(Linha("x", ""), STREAM, pubs, procs, {1: 1003})
    assert (li.perdidos, li.esperados, li.duplicados, li.reentregues) == (1, 0, 0, 1)


def test_an_event_applied_under_an_id_never_published_is_a_duplicate():
    pubs = _stream(1)
    procs = [Processado("s-1-0", 1, "aplicado"), Processado("another", 1, "aplicado")]
    assert contar(Linha("x", ""), STREAM, pubs, procs, {1: 1001}).duplicados == 1


def test_pubsub_counts_messages_delivered_to_nobody_as_expected_losses():
    pubs = [Publicado(1, 1000 + i, i, entregue=i not in (2, 3)) for i in range(1, 6)]
    procs = [Processado(f"u{i}", 1, "aplicado") for i in (1, 4)]  # 5 was in a killed bridge
    li = contar(Linha("x", ""), PUBSUB, pubs, procs, {1: 1004})
    assert (li.publicados, li.aplicados, li.perdidos, li.esperados, li.duplicados) == (5, 2, 3, 2, 0)
    assert li.ultimo_ok == 0


def test_pubsub_more_events_handled_than_messages_delivered_is_a_duplicate():
    pubs = [Publicado(1, 1001, 1), Publicado(1, 1002, 2)]
    procs = [Processado(e, 1, r) for e, r in (("a", "aplicado"), ("b", "aplicado"), ("c", "obsoleto"))]
    li = contar(Linha("x", ""), PUBSUB, pubs, procs, {1: 1002})
    assert (li.aplicados, li.perdidos, li.duplicados) == (2, 0, 1)


def test_rejected_events_are_not_applied():
    pubs = _stream(2)
    procs = [Processado("s-1-0", 1, "rejeitado"), Processado("s-2-0", 1, "aplicado")]
    li = contar(Linha("x", ""), STREAM, pubs, procs, {1: 1002})
    assert (li.aplicados, li.perdidos, li.rejeitados) == (1, 1, 1)


def test_worker_log_lines_are_read_for_the_drills_products_and_action_only(tmp_path):
    def linha(event_id, acao, crm_id, resultado="aplicado"):
        msg = f"evento event_id={event_id} canal=produtos acao={acao} crm_id={crm_id} seq=7 resultado={resultado} "
        return json.dumps({"level": "INFO", "message": msg + "tentativas=1", "role": "worker"})

    bridge = "evento event_id=z canal=produtos acao=atualizado crm_id=5 seq=7 origem=stream resultado=enfileirado"
    (tmp_path / "worker-1.log").write_text(
        "\n".join([linha("a", "atualizado", 5), linha("b", "criado", 5), linha("c", "atualizado", 6, "obsoleto")])
    )
    (tmp_path / "bridge-2.log").write_text(json.dumps({"message": bridge}) + "\nnot json\n")
    (tmp_path / "worker-3.log.1").write_text("[text] " + json.loads(linha("d", "atualizado", 5))["message"] + "\n")
    found = ler_processados([tmp_path], {5})
    assert sorted(p.event_id for p in found) == ["a", "d"]
    assert processado_de(linha("c", "atualizado", 6, "obsoleto")) == Processado("c", 6, "obsoleto", "atualizado")


def test_recovery_looks_for_the_first_delivered_event_after_the_fault():
    pubs = [Publicado(1, 1001, 1.0), Publicado(1, 1002, 5.0, entregue=False), Publicado(1, 1003, 6.0)]
    pubs.append(Publicado(2, 1001, 7.0))
    primeiros = primeiro_depois(pubs, 4.0)
    assert primeiros == {1: 1003, 2: 1001}
    assert not visivel(primeiros, {1: 1001, 2: None})
    assert visivel(primeiros, {1: 1001, 2: 1001})


def test_the_table_has_one_row_per_line():
    li = contar(Linha("3. kill -9 bridge", ""), STREAM, _stream(1), [Processado("s-1-0", 1, "aplicado")], {1: 1001})
    li.recuperacao_s = 5.04
    text = tabela([li]).splitlines()
    assert len(text) == 3 and text[2] == "| 3. kill -9 bridge | stream | 1 | 1 | 0 | 0 | 0 | 0 | 1/1 | 0 | 5.0 |"
