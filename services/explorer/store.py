"""The explorer's SQLite store: blocks, transactions and logs as the chain has them (decoded where the contract is
ours), which addresses each transaction touched, and per-component views over the decoded events.

Everything is keyed by block number, so a reorg rolls back with one DELETE per table (`rollback`); the indexer
writes a whole range of blocks in the follower's transaction, so a restart never duplicates or loses a row."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from services.common.store import SqliteStore

#: SQLite's largest integer: no block number or row offset is beyond it (and SQLite cannot be asked about one).
SQLITE_MAX_INT = 2**63 - 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, parent_hash TEXT NOT NULL, timestamp INTEGER NOT NULL,
    miner TEXT NOT NULL, gas_used INTEGER NOT NULL, gas_limit INTEGER NOT NULL, base_fee TEXT, tx_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    hash TEXT PRIMARY KEY, block_number INTEGER NOT NULL, tx_index INTEGER NOT NULL, from_addr TEXT NOT NULL,
    to_addr TEXT, created TEXT, value TEXT NOT NULL, nonce INTEGER NOT NULL, gas INTEGER NOT NULL,
    gas_price TEXT NOT NULL, gas_used INTEGER NOT NULL, status INTEGER NOT NULL, input TEXT NOT NULL,
    contract TEXT, method TEXT, args TEXT, error TEXT, error_args TEXT
);
CREATE INDEX IF NOT EXISTS txs_block ON txs (block_number, tx_index);
CREATE TABLE IF NOT EXISTS logs (
    block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL, address TEXT NOT NULL,
    topics TEXT NOT NULL, data TEXT NOT NULL, contract TEXT, event TEXT, args TEXT,
    -- The id a search finds it by: a stored file's root, a DA blob's data root.
    ref TEXT,
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX IF NOT EXISTS logs_tx ON logs (tx_hash);
CREATE INDEX IF NOT EXISTS logs_event ON logs (contract, event, block_number);
CREATE INDEX IF NOT EXISTS logs_ref ON logs (ref) WHERE ref IS NOT NULL;
-- Every address a transaction touched: sender, recipient, created contract, addresses in its decoded events.
CREATE TABLE IF NOT EXISTS touched (
    address TEXT NOT NULL, block_number INTEGER NOT NULL, tx_index INTEGER NOT NULL, tx_hash TEXT NOT NULL,
    PRIMARY KEY (address, block_number, tx_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS touched_block ON touched (block_number);

-- Storage: one row per Flow submission, with the market fee its transaction paid (the Flow charges after it emits
-- Submit; a batch submission pays one fee for all its files).
-- Views are made anew on every start, so a new version's definition replaces the old one.
DROP VIEW IF EXISTS storage_files;
CREATE VIEW storage_files AS
SELECT s.ref AS root, s.block_number, s.tx_hash, s.log_index,
       json_extract(s.args, '$.submissionIndex') AS tx_seq, json_extract(s.args, '$.sender') AS submitter,
       json_extract(s.args, '$.submission.length') AS size, json_extract(s.args, '$.length') AS sectors,
       json_extract(s.args, '$.startPos') AS start_pos,
       COALESCE(
         (SELECT json_extract(f.args, '$.fee') FROM logs f WHERE f.tx_hash = s.tx_hash AND f.event = 'FeeCharged'
           AND f.log_index > s.log_index ORDER BY f.log_index LIMIT 1),
         (SELECT json_extract(f.args, '$.fee') FROM logs f WHERE f.tx_hash = s.tx_hash AND f.event = 'FeeCharged'
           ORDER BY f.log_index DESC LIMIT 1)) AS fee
FROM logs s WHERE s.contract = 'Flow' AND s.event = 'Submit';

-- DA: one row per blob (DataUpload), with its attestation once verified.
DROP VIEW IF EXISTS da_blobs;
CREATE VIEW da_blobs AS
SELECT u.ref AS data_root, u.block_number, u.tx_hash, json_extract(u.args, '$.sender') AS sender,
       json_extract(u.args, '$.epoch') AS epoch, json_extract(u.args, '$.quorumId') AS quorum,
       json_extract(u.args, '$.blobFee') AS fee,
       v.block_number AS verified_block, v.tx_hash AS verified_tx,
       json_extract(v.args, '$.signerBitmap') AS signer_bitmap, json_extract(v.args, '$.signedStake') AS signed_stake,
       json_extract(v.args, '$.totalStake') AS total_stake
FROM logs u LEFT JOIN logs v
  ON v.ref = u.ref AND v.contract = 'DAEntrance' AND v.event = 'ErasureCommitmentVerified'
WHERE u.contract = 'DAEntrance' AND u.event = 'DataUpload';

-- Marketplace: a listing's events found by its id (every Marketplace event but the fee and proceeds ones has one).
CREATE INDEX IF NOT EXISTS logs_listing ON logs (json_extract(args, '$.id'), event, block_number, log_index)
  WHERE contract = 'Marketplace';
-- One row per listing (ItemListed), with what later events changed: its price, whether it was delisted, its sales
-- (purchases not reclaimed) and its linked providers (the contract refuses a second link or a stray unlink).
DROP VIEW IF EXISTS market_listings;
CREATE VIEW market_listings AS
SELECT l.id, json_extract(l.args, '$.lister') AS lister, json_extract(l.args, '$.kind') AS kind,
       json_extract(l.args, '$.name') AS name, json_extract(l.args, '$.isPrivate') AS private,
       CAST(COALESCE(
         (SELECT json_extract(u.args, '$.price') FROM logs u WHERE u.contract = 'Marketplace'
           AND json_extract(u.args, '$.id') = l.id AND u.event = 'ItemUpdated'
           ORDER BY u.block_number DESC, u.log_index DESC LIMIT 1),
         json_extract(l.args, '$.price')) AS TEXT) AS price,
       NOT EXISTS (SELECT 1 FROM logs d WHERE d.contract = 'Marketplace' AND json_extract(d.args, '$.id') = l.id
         AND d.event = 'ItemDelisted') AS active,
       (SELECT COUNT(*) FROM logs b WHERE b.contract = 'Marketplace' AND json_extract(b.args, '$.id') = l.id
         AND b.event = 'ItemBought')
       - (SELECT COUNT(*) FROM logs r WHERE r.contract = 'Marketplace' AND json_extract(r.args, '$.id') = l.id
         AND r.event = 'PurchaseReclaimed') AS sales,
       (SELECT COUNT(*) FROM logs s WHERE s.contract = 'Marketplace' AND json_extract(s.args, '$.id') = l.id
         AND s.event = 'ServiceLinked')
       - (SELECT COUNT(*) FROM logs s WHERE s.contract = 'Marketplace' AND json_extract(s.args, '$.id') = l.id
         AND s.event = 'ServiceUnlinked') AS providers,
       l.block_number, l.log_index, l.tx_hash
FROM (SELECT *, json_extract(args, '$.id') AS id FROM logs WHERE contract = 'Marketplace' AND event = 'ItemListed') l;
"""


class ExplorerStore(SqliteStore):
    SCHEMA = SCHEMA

    # ------------------------------------------------------------ writes (in the follower's transaction)

    @staticmethod
    def insert(
        conn: sqlite3.Connection,
        blocks: Sequence[tuple[Any, ...]],
        txs: Sequence[tuple[Any, ...]],
        logs: Sequence[tuple[Any, ...]],
        touched: Iterable[tuple[str, int, int, str]],
    ) -> None:
        conn.executemany("INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", blocks)
        conn.executemany("INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", txs)
        conn.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", logs)
        conn.executemany("INSERT OR IGNORE INTO touched VALUES (?, ?, ?, ?)", touched)

    @staticmethod
    def rollback(conn: sqlite3.Connection, from_block: int) -> None:
        for table in ("blocks", "txs", "logs", "touched"):
            conn.execute(
                f"DELETE FROM {table} WHERE {'number' if table == 'blocks' else 'block_number'} >= ?", (from_block,)
            )

    # ------------------------------------------------------------ reads

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            return [_row(r) for r in self.conn.execute(sql, params).fetchall()]

    def _one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self._all(sql, params)
        return rows[0] if rows else None

    def counts(self) -> dict[str, int]:
        with self.lock:
            row = self.conn.execute(
                "SELECT (SELECT COALESCE(MAX(number), -1) FROM blocks), (SELECT COUNT(*) FROM txs),"
                " (SELECT COUNT(*) FROM logs WHERE contract = 'Flow' AND event = 'Submit'),"
                " (SELECT COUNT(*) FROM logs WHERE contract = 'DAEntrance' AND event = 'DataUpload'),"
                " (SELECT COUNT(DISTINCT address) FROM touched),"
                " (SELECT COUNT(*) FROM logs WHERE contract = 'Marketplace' AND event = 'ItemListed')"
            ).fetchone()
        return {
            "indexedBlock": row[0],
            "transactions": row[1],
            "files": row[2],
            "blobs": row[3],
            "addresses": row[4],
            "listings": row[5],
        }

    def blocks(self, limit: int, before: int | None = None) -> list[dict[str, Any]]:
        if before is None:
            return self._all("SELECT * FROM blocks ORDER BY number DESC LIMIT ?", (limit,))
        return self._all("SELECT * FROM blocks WHERE number < ? ORDER BY number DESC LIMIT ?", (before, limit))

    def block(self, number: int | None = None, block_hash: str | None = None) -> dict[str, Any] | None:
        if block_hash is not None:
            return self._one("SELECT * FROM blocks WHERE hash = ?", (block_hash,))
        return self._one("SELECT * FROM blocks WHERE number = ?", (number,))

    def block_txs(self, number: int) -> list[dict[str, Any]]:
        return self._all(f"SELECT {TX_SUMMARY} FROM txs WHERE block_number = ? ORDER BY tx_index", (number,))

    def txs(self, limit: int) -> list[dict[str, Any]]:
        return self._all(f"SELECT {TX_SUMMARY} FROM txs ORDER BY block_number DESC, tx_index DESC LIMIT ?", (limit,))

    def tx(self, tx_hash: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM txs WHERE hash = ?", (tx_hash,))

    def tx_logs(self, tx_hash: str) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM logs WHERE tx_hash = ? ORDER BY log_index", (tx_hash,))

    def address_txs(self, address: str, limit: int) -> list[dict[str, Any]]:
        return self._all(
            f"SELECT {TX_SUMMARY} FROM touched t JOIN txs ON txs.hash = t.tx_hash WHERE t.address = ?"
            " ORDER BY t.block_number DESC, t.tx_index DESC LIMIT ?",
            (address, limit),
        )

    def address_txlist(self, address: str, limit: int, offset: int, ascending: bool) -> list[dict[str, Any]]:
        """A page of the transactions that touched `address`, every column and the block's time (Etherscan's
        txlist), oldest or newest first."""
        order = "ASC" if ascending else "DESC"
        return self._all(
            "SELECT txs.*, blocks.timestamp FROM touched t JOIN txs ON txs.hash = t.tx_hash"
            f" JOIN blocks ON blocks.number = t.block_number WHERE t.address = ?"
            f" ORDER BY t.block_number {order}, t.tx_index {order} LIMIT ? OFFSET ?",
            (address, limit, offset),
        )

    def address_tx_count(self, address: str) -> int:
        with self.lock:
            return self.conn.execute("SELECT COUNT(*) FROM touched WHERE address = ?", (address,)).fetchone()[0]

    def created_by(self, address: str) -> dict[str, Any] | None:
        return self._one(f"SELECT {TX_SUMMARY} FROM txs WHERE created = ?", (address,))

    def events(
        self,
        contract: str,
        names: Sequence[str],
        limit: int,
        *,
        ref: str | None = None,
        arg: tuple[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first: decoded events `names` of `contract`, optionally only those with `ref` or with the
        argument `arg` = (name, value)."""
        sql = f"SELECT * FROM logs WHERE contract = ? AND event IN ({','.join('?' * len(names))})"
        params: list[Any] = [contract, *names]
        if ref is not None:
            sql += " AND ref = ?"
            params.append(ref)
        if arg is not None:
            sql += " AND json_extract(args, ?) = ?"
            params += [f"$.{arg[0]}", arg[1]]
        return self._all(sql + " ORDER BY block_number DESC, log_index DESC LIMIT ?", (*params, limit))

    def storage_files(self, limit: int, root: str | None = None) -> list[dict[str, Any]]:
        if root is not None:
            return self._all("SELECT * FROM storage_files WHERE root = ? ORDER BY tx_seq", (root,))
        return self._all("SELECT * FROM storage_files ORDER BY block_number DESC, log_index DESC LIMIT ?", (limit,))

    def da_blobs(self, limit: int, root: str | None = None) -> list[dict[str, Any]]:
        if root is not None:
            return self._all("SELECT * FROM da_blobs WHERE data_root = ? ORDER BY block_number", (root,))
        return self._all("SELECT * FROM da_blobs ORDER BY block_number DESC LIMIT ?", (limit,))

    def market_listings(
        self, limit: int, *, kind: int | None = None, lister: str | None = None, listing_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Newest first: the listings, optionally only those of `kind` (IMarketplace.Kind), of `lister`, or the one
        with `listing_id`."""
        sql, params = "SELECT * FROM market_listings WHERE 1", []
        for column, value in (("kind", kind), ("lister", lister), ("id", listing_id)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        rows = self._all(sql + " ORDER BY block_number DESC, log_index DESC LIMIT ?", (*params, limit))
        for row in rows:
            row["private"], row["active"] = bool(row["private"]), bool(row["active"])
        return rows

    def listing_events(self, listing_id: int, limit: int) -> list[dict[str, Any]]:
        """Oldest first: the latest `limit` Marketplace events of listing `listing_id`."""
        rows = self._all(
            "SELECT * FROM logs WHERE contract = 'Marketplace' AND json_extract(args, '$.id') = ?"
            " ORDER BY block_number DESC, log_index DESC LIMIT ?",
            (listing_id, limit),
        )
        return rows[::-1]

    def market_purchases(self, buyer: str, limit: int) -> list[dict[str, Any]]:
        """Newest first: what `buyer` bought (ItemBought), with each listing's name."""
        return self._all(
            "SELECT b.*, json_extract(l.args, '$.name') AS name FROM logs b LEFT JOIN logs l"
            " ON l.contract = 'Marketplace' AND json_extract(l.args, '$.id') = json_extract(b.args, '$.id')"
            " AND l.event = 'ItemListed'"
            " WHERE b.contract = 'Marketplace' AND b.event = 'ItemBought' AND json_extract(b.args, '$.buyer') = ?"
            " ORDER BY b.block_number DESC, b.log_index DESC LIMIT ?",
            (buyer, limit),
        )

    def ref_kind(self, ref: str) -> str | None:
        """'storage' or 'da' for a root some event carries."""
        row = self._one("SELECT contract FROM logs WHERE ref = ? LIMIT 1", (ref,))
        if row is None:
            return None
        return "da" if row["contract"] == "DAEntrance" else "storage"


#: The columns a list of transactions shows.
TX_SUMMARY = (
    "txs.hash, txs.block_number, txs.tx_index, txs.from_addr, txs.to_addr, txs.created, txs.value, txs.status,"
    " txs.gas_used, txs.contract, txs.method, txs.error"
)


def _row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for key in ("args", "error_args", "topics"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out
