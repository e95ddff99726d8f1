"""MongoDB side of the CRM sync: conditional, idempotent writes keyed by CRM id.

Every document the sync touches carries ``sync_seq``, the bridge's sequence number of
the last change applied to it (API writes take numbers from the same counter). A change
applies only when its number is greater, so parallel workers, retries and redeliveries
can run events in any order and still end in the state of the last event received;
running an envelope twice changes nothing the second time.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from contextlib import suppress
from datetime import datetime
from uuid import uuid4

from bson import ObjectId
from pymongo import ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from adapters.cache import IdsCompartilhados, ProdutoCache
from adapters.mongo import any_of, fatias
from adapters.read_cache import ReadCache
from adapters.repositories import MongoClienteRepository, MongoProdutoRepository, chave_java
from domain.eventos import EventoInvalido, Regra, Resultado

logger = logging.getLogger(__name__)

# Marks kept on a product beyond those of the batch writing it: room for other workers'
# batches between a write and its read-back.
MARCAS_FOLGA = 8
# A customer's write redone after a duplicate key whose cause was gone on a second look.
TENTATIVAS_CLIENTE = 3
# What a write that hides a product reports instead of its upsert's result.
_OCULTO = {Resultado.CRIADO: Resultado.REMOVIDO_DESCONHECIDO, Resultado.APLICADO: Resultado.REMOVIDO}


def _older_than(seq: int) -> dict:
    return {"$or": [{"sync_seq": {"$lt": seq}}, {"sync_seq": {"$exists": False}}]}


class IdsConhecidos:
    """CRM id -> product id of the products this process has written, least recently
    used first out (~200 bytes an entry: the default bound keeps it near 10 MB)."""

    def __init__(self, maximo: int = 50_000):
        self.maximo = maximo
        self._ids: OrderedDict[int, str] = OrderedDict()
        self._lock = threading.Lock()  # thread pools share one repository per process

    def get(self, java_id: int) -> str | None:
        with self._lock:
            doc_id = self._ids.get(java_id)
            if doc_id is not None:
                self._ids.move_to_end(java_id)
            return doc_id

    def put(self, java_id: int, doc_id: str) -> None:
        with self._lock:
            self._ids[java_id] = doc_id
            self._ids.move_to_end(java_id)
            while len(self._ids) > self.maximo:
                self._ids.popitem(last=False)

    def discard(self, java_id: int) -> None:
        with self._lock:
            self._ids.pop(java_id, None)

    def __len__(self) -> int:
        return len(self._ids)


class MongoProdutoSync:
    def __init__(self, db: Database, cache: ProdutoCache | None = None):
        self._repo = MongoProdutoRepository(db)
        self.col = self._repo.col
        self.cache = cache
        self._ids = IdsConhecidos()
        # Other processes' knowledge too, where Redis is there (the cache's).
        self._compartilhados = IdsCompartilhados(cache.client, cache.prefix) if cache is not None else None

    def _lembrar(self, ids: dict[int, str]) -> None:
        for java_id, doc_id in ids.items():
            self._ids.put(java_id, doc_id)
        if self._compartilhados is not None:
            self._compartilhados.gravar(ids)

    def _esquecer(self, java_id: int) -> None:
        self._ids.discard(java_id)
        if self._compartilhados is not None:
            self._compartilhados.esquecer(java_id)

    def _invalidar(self, produto_id: str | None) -> None:
        if produto_id and self.cache is not None:
            self.cache.invalidar(produto_id)

    def _doc(self, campos: dict) -> tuple[dict, dict]:
        """$set and $unset parts for the CRM-owned fields (a missing descricao is null)."""
        to_set = self._repo.to_doc({k: v for k, v in campos.items() if v is not None})
        unset = {k: "" for k in ("descricao",) if campos.get(k) is None and k in campos}
        return to_set, unset

    def _upsert(self, java_id: int, seq: int, change: dict, upsert: bool) -> tuple[Resultado, str | None]:
        """Conditional write by CRM id: (CRIADO or APLICADO, id), (OBSOLETO, None) when a
        newer sequence is stored, (AUSENTE, None) when there is no such product and
        ``upsert`` is off."""
        filtro = {"java_id": java_id, **_older_than(seq)}
        change.setdefault("$setOnInsert", {}).update(chave_java(java_id))  # what keeps the CRM id unique
        options = {"projection": {"criado_seq": 1}, "return_document": ReturnDocument.AFTER}
        try:
            doc = self.col.find_one_and_update(filtro, change, upsert=upsert, **options)
        except DuplicateKeyError:
            doc = None  # another event created the product meanwhile: see below
        if doc is None:
            if not self.existe(java_id):
                return Resultado.AUSENTE, None
            # The product exists. Either it stores a newer event (ours is obsolete), or it
            # was created by another event between our write and now: then ours applies
            # if it is newer, conditionally as always (found by the e2e out-of-order test).
            doc = self.col.find_one_and_update(filtro, change, **options)
            if doc is None:
                return Resultado.OBSOLETO, None
        self._invalidar(str(doc["_id"]))
        if self._ids.get(java_id) != str(doc["_id"]):
            self._lembrar({java_id: str(doc["_id"])})  # a batch of its later events need not read it
        return (Resultado.CRIADO if doc.get("criado_seq") == seq else Resultado.APLICADO), str(doc["_id"])

    def _change_aplicar(self, campos: dict, seq: int, agora: datetime, reviver: bool) -> dict:
        to_set, unset = self._doc(campos)
        to_set.update({"atualizado_em": agora, "sync_seq": seq})
        on_insert = {"criado_em": agora, "criado_seq": seq}
        if reviver:
            to_set["excluido_em"] = None
        else:
            on_insert["excluido_em"] = None
        change: dict = {"$set": to_set, "$setOnInsert": on_insert, "$inc": {"versao": 1}}
        if unset:
            change["$unset"] = unset
        return change

    @staticmethod
    def _change_ocultar(seq: int, agora: datetime) -> dict:
        return {
            "$set": {"excluido_em": agora, "atualizado_em": agora, "sync_seq": seq},
            "$setOnInsert": {"criado_em": agora, "criado_seq": seq},
            "$inc": {"versao": 1},
        }

    def aplicar(
        self, java_id: int, campos: dict, seq: int, agora: datetime, reviver: bool, criar: bool = True
    ) -> tuple[Resultado, str | None]:
        """Write the product's CRM fields if ``seq`` is newer (creating it when ``criar``)."""
        return self._upsert(java_id, seq, self._change_aplicar(campos, seq, agora, reviver), upsert=criar)

    def ocultar(
        self, java_id: int, seq: int, agora: datetime, criar: bool = True, nome_busca: str | None = None
    ) -> tuple[Resultado, str | None]:
        """Hide the product if ``seq`` is newer. An unknown id leaves a hidden tombstone, so a
        late older event cannot create it; it keeps ``nome_busca``, so a late id-0
        ``criado`` of that name is known as superseded (``superado``)."""
        change = self._change_ocultar(seq, agora)
        if nome_busca:
            change["$setOnInsert"]["nome_busca"] = nome_busca
        resultado, doc_id = self._upsert(java_id, seq, change, upsert=criar)
        return _OCULTO.get(resultado, resultado), doc_id

    def aplicar_varios(self, eventos: list, agora: datetime) -> list[tuple[Resultado, str | None]]:
        """Events (``java_id``, ``acao``, ``campos``, ``seq``) of stored products in one
        ordered ``bulk_write`` of their conditional writes, with the results of applying
        them one by one; AUSENTE for a product not stored yet (the caller creates it).

        Written blind at remembered ids, without reading first: a CRM id never moves to
        another document (products are hidden, never deleted). Only when an update did not
        match are the products read back (``_conferir``): each write's mark says if it took
        effect, even under a later write of this batch or of another worker.
        """
        lote = uuid4().hex[:16]
        por_produto = Counter(ev.java_id for ev in eventos)
        ultimo = self._ler_desconhecidos(set(por_produto))
        resultados: list[tuple[Resultado, str | None]] = [(Resultado.AUSENTE, None)] * len(eventos)
        ops, escritos = [], []
        for i in sorted(range(len(eventos)), key=lambda k: eventos[k].seq):
            ev = eventos[i]
            doc_id = self._ids.get(ev.java_id)
            if doc_id is None:
                continue
            if ev.seq <= ultimo.get(ev.java_id, -1):
                resultados[i] = (Resultado.OBSOLETO, None)
                continue
            if ev.java_id in ultimo:
                ultimo[ev.java_id] = ev.seq
            # No upsert: these products exist. The condition guards against newer writes.
            # Room for every mark of this batch on the product, and for a few of others.
            marca = (f"{lote}:{i}", por_produto[ev.java_id] + MARCAS_FOLGA)
            ops.append(self.operacao(ev.java_id, ev.acao, ev.campos, ev.seq, agora, doc_id=doc_id, marca=marca))
            escritos.append(i)
            resultados[i] = (Resultado.REMOVIDO if ev.acao == "removido" else Resultado.APLICADO, doc_id)
        if ops:
            tocados = {resultados[i][1] for i in escritos}
            if self.col.bulk_write(ops, ordered=True).matched_count != len(ops):
                self._conferir(eventos, escritos, resultados, lote)
            if self.cache is not None:
                self.cache.invalidar(*tocados)
        return resultados

    def criar_varios(self, eventos: list, agora: datetime) -> list[tuple[Resultado, str | None]]:
        """Create in one ``bulk_write`` the products of events (``java_id``, ``acao``,
        ``campos``, ``seq``) that ``aplicar_varios`` found absent: (CRIADO, id) for each
        event that created its product, AUSENTE for the rest, left to the one-by-one path
        (a removido, a product's later events, a name an id-0 ``criado`` awaits, a product
        stored meanwhile by another worker).

        Each write is an upsert whose filter is the CRM id's unique key alone, with the
        whole document in ``$setOnInsert``: on MongoDB the same single index lookup as the
        one-by-one upsert; mongoeco (SQLite) finds such a key through its index where the
        conditional filter of ``_upsert`` costs it reads of the whole collection. A product
        that exists by then is left as it is (its write matches, changing nothing).
        """
        resultados: list[tuple[Resultado, str | None]] = [(Resultado.AUSENTE, None)] * len(eventos)
        primeiros: dict[int, int] = {}
        for i in sorted(range(len(eventos)), key=lambda k: eventos[k].seq):
            primeiros.setdefault(eventos[i].java_id, i)
        docs = {i: self._doc_novo(eventos[i], agora) for i in primeiros.values() if eventos[i].acao != "removido"}
        aguardados = self._nomes_pendentes({d["nome_busca"] for d in docs.values() if "nome_busca" in d})
        docs = {i: d for i, d in docs.items() if d.get("nome_busca") not in aguardados}
        if not docs:
            return resultados
        ordem = list(docs)
        ops = [UpdateOne(chave_java(eventos[i].java_id), {"$setOnInsert": docs[i]}, upsert=True) for i in ordem]
        try:
            criados = self.col.bulk_write(ops, ordered=False).upserted_ids
        except BulkWriteError as exc:
            # Another worker created some of them meanwhile (the key is unique): the rest stand.
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", ())):
                raise
            criados = {u["index"]: u["_id"] for u in exc.details.get("upserted", ())}
        ids = {eventos[ordem[k]].java_id: str(doc_id) for k, doc_id in criados.items()}
        for k in criados:
            resultados[ordem[k]] = (Resultado.CRIADO, ids[eventos[ordem[k]].java_id])
        self._lembrar(ids)
        if self.cache is not None and ids:
            self.cache.invalidar(*ids.values())
        self._descartar_pendentes_de([docs[ordem[k]] for k in criados])
        return resultados

    def _doc_novo(self, ev, agora: datetime) -> dict:
        """The document the one-by-one upsert of ``ev`` would create (``aplicar``)."""
        change = self._change_aplicar(ev.campos, ev.seq, agora, reviver=ev.acao == "criado")
        return {**change["$set"], **change["$setOnInsert"], "java_id": ev.java_id, "versao": 1}

    def _nomes_pendentes(self, nomes: set[str]) -> set[str]:
        """Which of ``nomes`` an id-0 product awaiting its real id holds (one query)."""
        if not nomes:
            return set()
        return {
            d["nome_busca"]
            for parte in fatias(sorted(nomes))
            for d in self.col.find({"nome_busca": any_of(parte), "pendente_vinculo": True}, {"nome_busca": 1})
        }

    def _descartar_pendentes_de(self, criados: list[dict]) -> None:
        """What the one-by-one path does after a creation, for the names an id-0 product
        stored meanwhile holds (the race of ``descartar_pendentes_anteriores``)."""
        for nome in self._nomes_pendentes({d["nome_busca"] for d in criados if "nome_busca" in d}):
            for doc in criados:
                if doc.get("nome_busca") == nome:
                    self.descartar_pendentes_anteriores(nome, doc["criado_seq"])

    def _ler_desconhecidos(self, java_ids: set[int]) -> dict[int, int]:
        """Find the ids of the products of ``java_ids`` this process does not know yet:
        those another process shared, then the rest from MongoDB (one ``$in``, whose
        stored ``sync_seq`` is returned), remembered here and shared."""
        novos = sorted(j for j in java_ids if self._ids.get(j) is None)
        if novos and self._compartilhados is not None:
            for java_id, doc_id in self._compartilhados.buscar(novos).items():
                self._ids.put(java_id, doc_id)
            novos = [j for j in novos if self._ids.get(j) is None]
        if not novos:
            return {}
        ultimo, lidos = {}, {}
        docs = (
            d
            for parte in fatias(novos)
            for d in self.col.find({"java_id": any_of(parte)}, {"java_id": 1, "sync_seq": 1})
        )
        for doc in docs:
            lidos[doc["java_id"]] = str(doc["_id"])
            ultimo[doc["java_id"]] = doc.get("sync_seq", -1)
        self._lembrar(lidos)
        return ultimo

    def _conferir(self, eventos: list, escritos: list[int], resultados: list, lote: str) -> None:
        """Some writes of the batch did not match: read the products back. An event took
        effect exactly when its write's mark is on the product. A product that is gone, or
        that is now another document (a database restored or rebuilt under a running
        worker), sends its events down the one-by-one path, which finds it by CRM id (or
        creates it)."""
        java_ids = sorted({eventos[i].java_id for i in escritos})
        projecao = {"java_id": 1, "sync_marcas": 1}
        docs = {
            d["java_id"]: d for parte in fatias(java_ids) for d in self.col.find({"java_id": any_of(parte)}, projecao)
        }
        for i in escritos:
            ev = eventos[i]
            doc = docs.get(ev.java_id)
            if doc is None or str(doc["_id"]) != resultados[i][1]:
                self._esquecer(ev.java_id)
                resultados[i] = (Resultado.AUSENTE, None)
            elif f"{lote}:{i}" not in doc.get("sync_marcas", ()):
                resultados[i] = (Resultado.OBSOLETO, None)
        sem_efeito = sum(resultados[i][1] is None for i in escritos)
        logger.info("sync batch read back: %d of %d writes had no effect", sem_efeito, len(escritos))

    def operacao(
        self,
        java_id: int,
        acao: str,
        campos: dict,
        seq: int,
        agora: datetime,
        doc_id: str | None = None,
        marca: tuple[str, int] | None = None,
    ) -> UpdateOne:
        """One event's conditional write to a stored product, for a ``bulk_write`` (the
        benchmark's too); ``marca`` (mark, how many to keep) recognises the write later."""
        if acao == "removido":
            change = self._change_ocultar(seq, agora)
        else:
            change = self._change_aplicar(campos, seq, agora, reviver=acao == "criado")
        del change["$setOnInsert"]  # never an upsert: the server need not compile it per write
        if marca is not None:
            change["$push"] = {"sync_marcas": {"$each": [marca[0]], "$slice": -marca[1]}}
        alvo = {"_id": ObjectId(doc_id)} if doc_id else {}
        return UpdateOne({**alvo, "java_id": java_id, **_older_than(seq)}, change)

    def existe(self, java_id: int) -> bool:
        return self.col.count_documents({"java_id": java_id}, limit=1) > 0

    def vincular_pendente(self, java_id: int, nome_busca: str, seq: int) -> bool:
        """Give ``java_id`` to the oldest product created by an id-0 ``criado`` of the same
        name received before ``seq``. True when one was linked."""
        try:
            doc = self.col.find_one_and_update(
                {"pendente_vinculo": True, "nome_busca": nome_busca, "criado_seq": {"$lt": seq}},
                {"$set": {"java_id": java_id, "pendente_vinculo": False, **chave_java(java_id)}},
                sort=[("criado_seq", 1)],
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False  # another worker linked this id meanwhile
        self._invalidar(str(doc["_id"]) if doc else None)
        return doc is not None

    def superado(self, nome_busca: str, seq: int) -> bool:
        """A product of this name was created by a later event with a real id."""
        return (
            self.col.count_documents(
                {"nome_busca": nome_busca, "java_id": {"$exists": True}, "criado_seq": {"$gt": seq}}, limit=1
            )
            > 0
        )

    def criar_pendente(self, campos: dict, seq: int, event_id: str, agora: datetime) -> tuple[Resultado, str | None]:
        """Store an id-0 ``criado`` once (keyed by its event id), awaiting its real id."""
        to_set, _ = self._doc(campos)
        doc = {
            **to_set,
            "pendente_vinculo": True,
            "evento_origem": event_id,
            "criado_seq": seq,
            "sync_seq": seq,
            "excluido_em": None,
            "criado_em": agora,
            "atualizado_em": agora,
            "versao": 1,
        }
        result = self.col.update_one({"evento_origem": event_id}, {"$setOnInsert": doc}, upsert=True)
        if result.upserted_id is None:
            return Resultado.OBSOLETO, None  # this envelope was applied before
        self._invalidar(str(result.upserted_id))
        return Resultado.CRIADO, str(result.upserted_id)

    def descartar_pendente(self, event_id: str) -> None:
        doc = self.col.find_one_and_delete({"evento_origem": event_id, "pendente_vinculo": True}, {"_id": 1})
        self._invalidar(str(doc["_id"]) if doc else None)

    def descartar_pendentes_anteriores(self, nome_busca: str, seq: int) -> int:
        """Drop id-0 products of this name from before ``seq``: a later event with a real id
        created the same product while they were being stored (a race both sides check)."""
        query = {"pendente_vinculo": True, "nome_busca": nome_busca, "criado_seq": {"$lt": seq}}
        ids = [doc["_id"] for doc in self.col.find(query, {"_id": 1})]
        if not ids:
            return 0
        apagados = self.col.delete_many({**query, "_id": {"$in": ids}}).deleted_count
        if self.cache is not None:
            self.cache.invalidar(*(str(i) for i in ids))
        return apagados


class MongoClienteSync:
    def __init__(self, db: Database, read_cache: ReadCache | None = None):
        self._repo = MongoClienteRepository(db, read_cache)
        self.col = self._repo.col

    def _escrever(self, filtro: dict, change: dict, upsert: bool = False) -> dict | None:
        """One conditional write; the customer as it was (None: none matched, or upserted),
        whose cached read goes (``adapters.read_cache``)."""
        antes = self.col.find_one_and_update(filtro, change, {"_id": 1}, upsert=upsert)
        self._repo.invalidar(str(antes["_id"]) if antes else None)
        return antes

    def aplicar(self, java_id: int, campos: dict, seq: int, agora: datetime) -> Resultado:
        """Upsert a customer by CRM id (id 0: by e-mail) if ``seq`` is newer.

        A customer registered through the API with the same e-mail is linked to the CRM id
        rather than duplicated; an e-mail that belongs to another customer is refused.
        """
        change = self._change(campos, seq, agora)
        email_norm = change["$set"]["email_norm"]
        key = {"java_id": java_id} if java_id else {"email_norm": email_norm}
        if java_id:
            change["$setOnInsert"].update(chave_java(java_id))  # what keeps the CRM id unique
        filtro = {**key, **_older_than(seq)}
        for _ in range(TENTATIVAS_CLIENTE):
            if java_id and not self.col.count_documents(key, limit=1):
                # Linked by a concurrent event meanwhile: the conditional write below decides.
                with suppress(DuplicateKeyError):
                    self._escrever(
                        {"email_norm": email_norm, "java_id": {"$exists": False}},
                        {"$set": {"java_id": java_id, **chave_java(java_id)}},
                    )
            try:
                return Resultado.APLICADO if self._escrever(filtro, change, upsert=True) else Resultado.CRIADO
            except DuplicateKeyError as exc:
                duplicado = exc
            if resultado := self._apos_duplicado(duplicado, java_id, email_norm, key, filtro, change):
                return resultado
        raise EventoInvalido(
            f"cliente {java_id or email_norm}: escrita em conflito {TENTATIVAS_CLIENTE} vezes", Regra.CONFLITO
        )

    def _change(self, campos: dict, seq: int, agora: datetime) -> dict:
        to_set = self._repo.to_doc({k: v for k, v in campos.items() if v is not None})
        unset = {k: "" for k in ("endereco", "telefone") if campos.get(k) is None}
        change: dict = {
            "$set": {**to_set, "atualizado_em": agora, "sync_seq": seq},
            "$setOnInsert": {"criado_em": agora},
            "$inc": {"versao": 1},
        }
        if unset:
            change["$unset"] = unset
        return change

    def _apos_duplicado(
        self, duplicado: DuplicateKeyError, java_id: int, email_norm: str, key: dict, filtro: dict, change: dict
    ) -> Resultado | None:
        """The upsert's query matched nothing, then its insert hit a unique index: another
        event created this customer meanwhile (two first events of a new CRM customer
        racing), or the e-mail is held by a different customer. Ours still applies if it is
        newer: the same conditional write, without upsert (as ``MongoProdutoSync._upsert``).
        None: the customer in the way is gone again (deleted meanwhile), or the e-mail is an
        API customer's who registered meanwhile (to link): once more from the top."""
        outro_cliente = EventoInvalido(f"e-mail {email_norm} pertence a outro cliente", Regra.EMAIL_DE_OUTRO)
        try:
            if self._escrever(filtro, change):
                return Resultado.APLICADO
        except DuplicateKeyError:
            raise outro_cliente from None  # ours is stored and older; the e-mail is another's
        if self.col.count_documents(key, limit=1):
            return Resultado.OBSOLETO  # the customer stores a newer event
        if _indice_email(duplicado) and not (
            java_id and self.col.count_documents({"email_norm": email_norm, "java_id": {"$exists": False}}, limit=1)
        ):
            raise outro_cliente from None  # ours is not stored: the e-mail is a different customer's
        return None


def _indice_email(exc: DuplicateKeyError) -> bool:
    """The duplicate is on the customers' e-mail index (else on the CRM id's,
    ``chave_java_unica``: neither its name nor its key ``chave_java`` says ``email_norm``)."""
    index = (exc.details or {}).get("keyPattern", {})
    return "email_norm" in index or "email_norm" in str(exc)
