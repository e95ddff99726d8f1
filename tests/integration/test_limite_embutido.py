"""The embedded default's limit at start-up: ``make run`` says so once the store holds more
products than it carries well (``adapters.embutido``), and only then."""

from __future__ import annotations

from adapters import embutido
from devstack import run


def test_the_warning_names_the_limit_only_past_it(db):
    db.produtos.insert_many([{"nome": f"p{n}"} for n in range(3)])
    assert embutido.e_embutido(db)  # the tests' store is mongoeco
    assert embutido.aviso(db, limite=3) is None
    assert "holds 3 products, past the 2" in embutido.aviso(db, limite=2)
    assert "MONGO_URI" in embutido.aviso(db, limite=2)


def test_the_launcher_prints_it_at_start_up(db, mongo_uri, monkeypatch, capsys):
    db.produtos.insert_many([{"nome": f"p{n}"} for n in range(3)])
    run.limites_do_embutido(mongo_uri, db.name)
    assert "WARNING" not in capsys.readouterr().out  # 3 products: well within the limit
    monkeypatch.setattr(embutido, "LIMITE_PRODUTOS", 2)
    run.limites_do_embutido(mongo_uri, db.name)
    assert "[ponte] WARNING: the embedded MongoDB stand-in holds 3 products" in capsys.readouterr().out


def test_a_store_that_cannot_be_counted_does_not_stop_the_start_up(capsys):
    from devstack.procs import free_port

    run.limites_do_embutido(f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=200", "nada")
    assert "WARNING" not in capsys.readouterr().out  # nothing answers: not known to be mongoeco
