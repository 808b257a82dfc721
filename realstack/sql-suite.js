// Step 3 of the real stack: the SQL a user would recognise, run in every tenant through the
// real mesh, with the same database and table names everywhere. Each step runs in each tenant
// (with that tenant's own values) and then checks what every tenant sees; the caller checks
// the store's raw view and the refusal counters after each step (isolation.js).
//
// A step: {name, run(tenant, i), check(tenant, i)}; `i` is the tenant's index, so tenant 1 and
// tenant 2 write different rows under the same names and each must read back only its own.
'use strict';

const assert = require('assert');
const { sleep } = require('./lib/processes');

/** Rows each tenant puts in shop.items: different counts, so a leak shows in every count. */
const ROWS = [3000, 1200, 700];
const marker = (i) => `t${i + 1}`;

async function expectError(promise, pattern, what) {
  try {
    await promise;
  } catch (e) {
    assert.match(String(e.message), pattern, `${what}: unexpected error ${e.message}`);
    return e;
  }
  throw new Error(`${what}: expected an error matching ${pattern}`);
}

const steps = [
  {
    name: 'bootstrap: the server answers and has its system schemas',
    run: async () => {},
    check: async (t) => {
      const v = await t.mysql.query('SELECT tidb_version() AS v');
      assert.match(v[0].v, /Release Version/);
      const dbs = (await t.mysql.query('SHOW DATABASES')).map((r) => r.Database);
      for (const d of ['mysql', 'INFORMATION_SCHEMA', 'test']) assert.ok(dbs.includes(d), `${t.name}: ${d} missing from ${dbs}`);
    },
  },
  {
    name: 'CREATE DATABASE / CREATE TABLE with the same names in every tenant',
    run: async (t) => {
      await t.mysql.query('CREATE DATABASE shop');
      await t.mysql.query('CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(64), qty INT, owner VARCHAR(8), KEY idx_name (name))');
      await t.mysql.query('CREATE TABLE shop.notes (id INT PRIMARY KEY, body TEXT)');
    },
    check: async (t) => {
      const tables = (await t.mysql.query('SHOW TABLES FROM shop')).map((r) => Object.values(r)[0]).sort();
      assert.deepStrictEqual(tables, ['items', 'notes']);
    },
  },
  {
    name: 'INSERT: each tenant writes its own rows (same primary keys)',
    run: async (t, i) => {
      const n = ROWS[i];
      for (let start = 1; start <= n; start += 500) {
        const vals = [];
        for (let id = start; id < start + 500 && id <= n; id++) vals.push(`(${id}, 'item-${marker(i)}-${String(id).padStart(5, '0')}', ${(id * 7) % 101}, '${marker(i)}')`);
        await t.mysql.query(`INSERT INTO shop.items VALUES ${vals.join(',')}`);
      }
      await t.mysql.query(`INSERT INTO shop.notes VALUES (1, 'secret of ${t.name}')`);
    },
    check: async (t, i) => {
      const r = await t.mysql.query('SELECT COUNT(*) AS n, COUNT(DISTINCT owner) AS owners, MIN(owner) AS owner FROM shop.items');
      assert.deepStrictEqual([Number(r[0].n), Number(r[0].owners), r[0].owner], [ROWS[i], 1, marker(i)]);
      const note = await t.mysql.query('SELECT body FROM shop.notes WHERE id = 1');
      assert.strictEqual(note[0].body, `secret of ${t.name}`);
    },
  },
  {
    name: 'SELECT pushed down to the coprocessor: aggregation, TopN, index lookup, paging',
    run: async () => {},
    check: async (t, i) => {
      const n = ROWS[i];
      let expectSum = 0;
      for (let id = 1; id <= n; id++) expectSum += (id * 7) % 101;
      const agg = await t.mysql.query('SELECT SUM(qty) AS s, MAX(id) AS m FROM shop.items');
      assert.deepStrictEqual([Number(agg[0].s), Number(agg[0].m)], [expectSum, n]);
      const top = await t.mysql.query('SELECT id, qty FROM shop.items ORDER BY qty DESC, id LIMIT 3');
      assert.strictEqual(top.length, 3);
      assert.strictEqual(Number(top[0].qty), 100);
      const byIndex = await t.mysql.query(`SELECT id FROM shop.items USE INDEX (idx_name) WHERE name = 'item-${marker(i)}-00042'`);
      assert.deepStrictEqual(byIndex.map((r) => r.id), [42]);
      // An index range over most of the table: an IndexLookUp with coprocessor paging.
      const plan = (await t.mysql.query(`EXPLAIN SELECT * FROM shop.items USE INDEX (idx_name) WHERE name >= 'item-${marker(i)}-00010'`)).map((r) => r.id).join(' ');
      assert.match(plan, /IndexLookUp/);
      const range = await t.mysql.query(`SELECT COUNT(*) AS n, SUM(qty) AS s FROM (SELECT * FROM shop.items USE INDEX (idx_name) WHERE name >= 'item-${marker(i)}-00010') x`);
      assert.strictEqual(Number(range[0].n), n - 9);
      // The other tenant's marker finds nothing even though its rows have the same ids.
      const foreign = await t.mysql.query(`SELECT COUNT(*) AS n FROM shop.items WHERE owner <> '${marker(i)}'`);
      assert.strictEqual(Number(foreign[0].n), 0);
    },
  },
  {
    name: 'UPDATE and DELETE',
    run: async (t, i) => {
      await t.mysql.query(`UPDATE shop.items SET qty = qty + 1000 WHERE id <= 10`);
      await t.mysql.query(`DELETE FROM shop.items WHERE id > ${ROWS[i] - 100}`);
    },
    check: async (t, i) => {
      const r = await t.mysql.query('SELECT COUNT(*) AS n, SUM(qty >= 1000) AS big FROM shop.items');
      assert.deepStrictEqual([Number(r[0].n), Number(r[0].big)], [ROWS[i] - 100, 10]);
    },
  },
  {
    name: 'ADD INDEX (backfill through the coprocessor and transactions) and ADMIN CHECK TABLE',
    run: async (t) => {
      await t.mysql.query('ALTER TABLE shop.items ADD INDEX idx_qty (qty)');
    },
    check: async (t, i) => {
      await t.mysql.query('ADMIN CHECK TABLE shop.items');
      const r = await t.mysql.query('SELECT COUNT(*) AS n FROM shop.items USE INDEX (idx_qty) WHERE qty >= 1000');
      assert.strictEqual(Number(r[0].n), 10);
      const all = await t.mysql.query('SELECT COUNT(*) AS n FROM shop.items USE INDEX (idx_qty) WHERE qty >= 0');
      assert.strictEqual(Number(all[0].n), ROWS[i] - 100);
    },
  },
  {
    name: 'transactions: rollback, pessimistic lock wait, optimistic conflict',
    run: async (t) => {
      const a = await t.mysql.session('shop');
      const b = await t.mysql.session('shop');
      try {
        // Rollback: nothing of it stays.
        await a.query('BEGIN');
        await a.query("INSERT INTO notes VALUES (2, 'rolled back')");
        await a.query('ROLLBACK');
        // Pessimistic: b waits for a's lock, then times out.
        await b.query('SET SESSION innodb_lock_wait_timeout = 1');
        await a.query('BEGIN PESSIMISTIC');
        await a.query('UPDATE items SET qty = qty + 10 WHERE id = 2');
        await b.query('BEGIN PESSIMISTIC');
        await expectError(b.query('UPDATE items SET qty = qty + 20 WHERE id = 2'), /Lock wait timeout|1205/, `${t.name} pessimistic lock wait`);
        await b.query('ROLLBACK');
        await a.query('COMMIT');
        // Optimistic (last: TiDB's own keyspace mode fails here on unistore, see
        // realstack/reference-differences.js): the second committer of a row loses.
        await a.query('BEGIN OPTIMISTIC');
        await b.query('BEGIN OPTIMISTIC');
        await a.query('UPDATE items SET qty = qty + 1 WHERE id = 1');
        await b.query('UPDATE items SET qty = qty + 2 WHERE id = 1');
        await a.query('COMMIT');
        await expectError(b.query('COMMIT'), /[Ww]rite conflict|9007/, `${t.name} optimistic conflict`);
      } finally {
        await a.end().catch(() => {});
        await b.end().catch(() => {});
      }
    },
    check: async (t) => {
      const r = await t.mysql.query('SELECT (SELECT qty FROM shop.items WHERE id = 1) AS q1, (SELECT qty FROM shop.items WHERE id = 2) AS q2, (SELECT COUNT(*) FROM shop.notes) AS notes');
      assert.deepStrictEqual([Number(r[0].q1), Number(r[0].q2), Number(r[0].notes)], [1000 + 7 + 1, 1000 + 14 + 10, 1]);
    },
  },
  {
    name: 'ANALYZE TABLE (PD stats/region through the mesh) and the statistics it writes',
    run: async (t) => {
      await t.mysql.query('ANALYZE TABLE shop.items');
    },
    check: async (t, i) => {
      const r = await t.mysql.query("SHOW STATS_META WHERE Db_name = 'shop' AND Table_name = 'items'");
      assert.strictEqual(r.length, 1);
      assert.strictEqual(Number(r[0].Row_count), ROWS[i] - 100);
    },
  },
  {
    name: 'AUTO_INCREMENT with AUTO_ID_CACHE 1 (the autoid service, elected through etcd)',
    run: async (t) => {
      await t.mysql.query('CREATE TABLE shop.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, item INT) AUTO_ID_CACHE 1');
      for (let k = 0; k < 3; k++) await t.mysql.query('INSERT INTO shop.orders (item) VALUES (?)', [k]);
    },
    check: async (t) => {
      const r = await t.mysql.query('SELECT id FROM shop.orders ORDER BY id');
      assert.deepStrictEqual(r.map((x) => Number(x.id)), [1, 2, 3]);
    },
  },
  {
    name: 'TRUNCATE, RENAME and DROP TABLE (PD region-label rules through the mesh)',
    run: async (t) => {
      await t.mysql.query('TRUNCATE TABLE shop.notes');
      await t.mysql.query('RENAME TABLE shop.orders TO shop.orders_old');
      await t.mysql.query('CREATE TABLE shop.tmp (id INT PRIMARY KEY)');
      await t.mysql.query('DROP TABLE shop.tmp');
    },
    check: async (t) => {
      const tables = (await t.mysql.query('SHOW TABLES FROM shop')).map((r) => Object.values(r)[0]).sort();
      assert.deepStrictEqual(tables, ['items', 'notes', 'orders_old']);
      const r = await t.mysql.query('SELECT (SELECT COUNT(*) FROM shop.notes) AS notes, (SELECT COUNT(*) FROM shop.orders_old) AS orders');
      assert.deepStrictEqual([Number(r[0].notes), Number(r[0].orders)], [0, 3]);
    },
  },
];

module.exports = { steps, ROWS, marker, sleep };
