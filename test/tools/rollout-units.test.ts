// Pure units of the rollout: SQL splitting, migration files, what a tenant still needs (resume
// rules), stage planning, the state machine, and the views.
import { parseRegistry, TenantRecord } from '../../tools/registry';
import { parseEndpointFlags, defaultEndpoint, endpointAddress } from '../../tools/rollout/endpoints';
import { migrateTenant } from '../../tools/rollout/executor';
import { parseMigrations } from '../../tools/rollout/migrations';
import { planStages } from '../../tools/rollout/plan';
import { planText, progressFrame, statusJson, statusText, transitionLines } from '../../tools/rollout/render';
import { isSessionStatement, refusedStatement, splitStatements, statementsOf } from '../../tools/rollout/sql';
import { begin, currentStage, finishTenant, initialState, reconcile, RolloutState, rolloutStatus, startTenant } from '../../tools/rollout/state';
import { tenantWork } from '../../tools/rollout/tenant-work';
import { FakeTidb, sqlError } from './fake-tidb';

describe('splitting SQL', () => {
  it('splits at top-level semicolons only', () => {
    const sql = `-- the orders table; with a comment
CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(20) DEFAULT 'a;b', \`we;ird\` INT);
INSERT INTO shop.orders VALUES (1, 'it''s; fine', 2), (2, "say \\"hi;\\"", 3); # trailing; comment
/* block; comment */ ALTER TABLE shop.orders ADD INDEX idx_note (note) /*T! some hint; */;
/* only a comment; */
;`;
    expect(splitStatements(sql)).toEqual([
      "-- the orders table; with a comment\nCREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(20) DEFAULT 'a;b', `we;ird` INT)",
      "INSERT INTO shop.orders VALUES (1, 'it''s; fine', 2), (2, \"say \\\"hi;\\\"\", 3)",
      '# trailing; comment\n/* block; comment */ ALTER TABLE shop.orders ADD INDEX idx_note (note) /*T! some hint; */',
    ]);
  });
  it('names the line of an unterminated string or comment', () => {
    expect(() => splitStatements("SELECT 1;\nSELECT 'x")).toThrow('unterminated string starting on line 2');
    expect(() => splitStatements('/* x')).toThrow('unterminated /* comment starting on line 1');
  });
  it('classifies session statements and refuses transaction control', () => {
    expect(isSessionStatement('USE shop')).toBe(true);
    expect(isSessionStatement("SET NAMES utf8mb4")).toBe(true);
    expect(isSessionStatement('SET tidb_ddl_reorg_worker_cnt = 4')).toBe(true);
    expect(isSessionStatement('SET GLOBAL tidb_gc_life_time = "1h"')).toBe(false);
    expect(isSessionStatement('SET @@global.x = 1')).toBe(false);
    expect(isSessionStatement('-- c\nUSE shop')).toBe(true);
    expect(refusedStatement('begin')).toMatch(/transaction control/);
    expect(refusedStatement('COMMIT')).toMatch(/transaction control/);
    expect(refusedStatement('SET autocommit = 0')).toMatch(/transaction control/);
    expect(refusedStatement('CREATE TABLE t (begin INT)')).toBeUndefined();
  });
});

const files = (o: Record<string, string>) => Object.entries(o).map(([name, text]) => ({ name, text }));

describe('migration files', () => {
  it('orders by version, ignores non-SQL files, honours --to', () => {
    const m = parseMigrations('m', files({ '0002_b.sql': 'CREATE TABLE b (i INT);', '0001_a.sql': 'USE shop; CREATE TABLE a (i INT); CREATE TABLE a2 (i INT)', 'README.md': '# x', '10-c.sql': 'DROP TABLE a2' }));
    expect(m.map((x) => [x.version, x.file, x.statements.length])).toEqual([[1, '0001_a.sql', 3], [2, '0002_b.sql', 1], [10, '10-c.sql', 1]]);
    expect(m[0].statements[0]).toMatchObject({ index: 1, sql: 'USE shop', session: true });
    expect(parseMigrations('m', files({ '0002_b.sql': 'SELECT 1', '0001_a.sql': 'SELECT 1', '0003_c.sql': 'SELECT 1' }), 2).map((x) => x.version)).toEqual([1, 2]);
  });
  it('refuses unnumbered files, duplicate versions, empty files and transaction control, naming the file', () => {
    expect(() => parseMigrations('m', files({ 'add.sql': 'SELECT 1' }))).toThrow('m/add.sql: migration files are named <version>_<name>.sql');
    expect(() => parseMigrations('m', files({ '1_a.sql': 'SELECT 1', '001_b.sql': 'SELECT 1' }))).toThrow('m: 001_b.sql and 1_a.sql both have version 1');
    expect(() => parseMigrations('m', files({ '1_a.sql': '-- nothing\n' }))).toThrow('m/1_a.sql: no statement to apply');
    expect(() => parseMigrations('m', files({ '1_a.sql': 'BEGIN; INSERT INTO t VALUES (1); COMMIT;' }))).toThrow('m/1_a.sql statement 1: transaction control is not allowed');
    expect(() => parseMigrations('m', files({ 'README': 'x' }))).toThrow(/no migration/);
  });
});

describe('what a tenant still needs', () => {
  const ms = parseMigrations('m', files({ '1_a.sql': 'CREATE TABLE a (i INT)', '2_b.sql': 'USE shop; ALTER TABLE a ADD COLUMN j INT; INSERT INTO a VALUES (1, 1)', '3_c.sql': 'CREATE TABLE c (i INT)' }));
  const [s21, s22] = ms[1].statements.slice(1);
  it('skips applied versions, resumes a version after its recorded statements, replays session statements', () => {
    const w = tenantWork(ms, { versions: [{ version: 1, checksum: ms[0].checksum }], statements: [{ version: 2, seq: 1, checksum: s21.checksum }] });
    if (!w.ok) throw new Error(w.message);
    expect(w.highestApplied).toBe(1);
    expect(w.todo.map((v) => [v.migration.version, v.nextSeq, v.steps.map((s) => `${s.statement.index}${s.record ? '' : '(session)'}`)]))
      .toEqual([[2, 2, ['1(session)', '3']], [3, 1, ['1']]]);
    expect(s22.sql).toBe('INSERT INTO a VALUES (1, 1)');
  });
  it('only writes the version row when every statement ran but the version row is missing', () => {
    const w = tenantWork([ms[1]], { versions: [], statements: [{ version: 2, seq: 1, checksum: s21.checksum }, { version: 2, seq: 2, checksum: s22.checksum }] });
    expect(w.ok && w.todo.map((v) => [v.migration.version, v.steps.length, v.nextSeq])).toEqual([[2, 0, 3]]);
  });
  it('accepts a fix that adds or edits statements that have not run; refuses one that removes a statement that ran', () => {
    const fixed = parseMigrations('m', files({ '2_b.sql': 'USE shop; ALTER TABLE a ADD COLUMN j INT; DELETE FROM a WHERE i = 1; INSERT INTO a VALUES (2, 2)' }));
    const w = tenantWork(fixed, { versions: [{ version: 1, checksum: 'x' }], statements: [{ version: 2, seq: 1, checksum: s21.checksum }] });
    expect(w.ok && w.todo[0].steps.filter((s) => s.record).map((s) => s.statement.sql)).toEqual(['DELETE FROM a WHERE i = 1', 'INSERT INTO a VALUES (2, 2)']);
    const edited = parseMigrations('m', files({ '2_b.sql': 'ALTER TABLE a ADD COLUMN k INT' }));
    const bad = tenantWork(edited, { versions: [], statements: [{ version: 2, seq: 1, checksum: s21.checksum }] });
    expect(bad).toMatchObject({ ok: false, code: 'STATEMENT_CHANGED', message: expect.stringMatching(/^2_b.sql: 1 statement\(s\) that already ran on this tenant are no longer in the file/) });
  });
  it('reports a changed applied file as a notice, and refuses a pending version below an applied one', () => {
    const w = tenantWork(ms, { versions: [{ version: 1, checksum: 'f'.repeat(64) }, { version: 2, checksum: ms[1].checksum }, { version: 3, checksum: ms[2].checksum }], statements: [] });
    expect(w).toMatchObject({ ok: true, todo: [], highestApplied: 3, notices: [expect.stringMatching(/^1_a.sql changed after it was applied here .*not re-run$/)] });
    expect(tenantWork(ms, { versions: [{ version: 3, checksum: ms[2].checksum }], statements: [] }))
      .toMatchObject({ ok: false, code: 'OUT_OF_ORDER', message: expect.stringMatching(/^1_a.sql \(version 1\) is not applied but version 3 is/) });
  });
});

describe('migrating one tenant (fake TiDB)', () => {
  const ms = parseMigrations('m', files({ '1_a.sql': 'CREATE TABLE a (i INT); INSERT INTO a VALUES (1)', '2_b.sql': 'ALTER TABLE a ADD UNIQUE INDEX u (i); INSERT INTO a VALUES (2)' }));
  it('applies in order, records every statement and version, and never applies twice', async () => {
    const db = new FakeTidb();
    expect(await migrateTenant({ connect: db.connector(), migrations: ms, rollout: 'r' })).toEqual({ ok: true, applied: [1, 2], version: 2, notices: [] });
    expect(db.appliedVersions()).toEqual([1, 2]);
    expect(db.statements.map((s) => [s.version, s.seq, s.rollout])).toEqual([[1, 1, 'r'], [1, 2, 'r'], [2, 1, 'r'], [2, 2, 'r']]);
    const again = await migrateTenant({ connect: db.connector(), migrations: ms, rollout: 'r2' });
    expect(again).toEqual({ ok: true, applied: [], version: 2, notices: [] });
    expect(db.executed).toHaveLength(4);
  });
  it('stops at a failing statement with file, statement number and server message; the DML of that statement is not recorded', async () => {
    const db = new FakeTidb();
    db.failOn.push({ match: /ADD UNIQUE/, error: sqlError('ER_DUP_ENTRY', 1062, "Duplicate entry '1' for key 'a.u'") });
    const r = await migrateTenant({ connect: db.connector(), migrations: ms, rollout: 'r' });
    expect(r).toEqual({ ok: false, applied: [1], version: 1, notices: [], error: "2_b.sql statement 1: ER_DUP_ENTRY (1062): Duplicate entry '1' for key 'a.u'" });
    expect(db.statements.filter((s) => s.version === 2)).toEqual([]);
    db.failOn = [];
    expect(await migrateTenant({ connect: db.connector(), migrations: ms, rollout: 'r' })).toEqual({ ok: true, applied: [2], version: 2, notices: [] });
    expect(db.executed.filter((s) => s.startsWith('INSERT INTO a VALUES (1)'))).toHaveLength(1);
  });
  it('a connection failure is a tenant failure, not a crash', async () => {
    const db = new FakeTidb();
    db.down = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:4000'), { code: 'ECONNREFUSED' });
    expect(await migrateTenant({ connect: db.connector(), migrations: ms, rollout: 'r' })).toMatchObject({ ok: false, error: 'connect: connect ECONNREFUSED 10.0.0.1:4000' });
  });
});

const rec = (name: string, labels: Record<string, string>, i: number): TenantRecord =>
  ({ name, namespace: 'tidb', storageLayer: 'tidb/s', keyspaceId: i, keyspaceName: name, labels, state: 'active' });
const tenants = () => parseRegistry({ kind: 'TenantRegistry', tenants: [
  rec('acme-a', { customer: 'acme', region: 'us-west' }, 1), rec('acme-b', { customer: 'acme', region: 'us-east' }, 2), rec('canary', {}, 3),
  rec('globex-a', { customer: 'globex', region: 'us-west' }, 4), rec('test', {}, 5), { ...rec('gone', { region: 'us-west' }, 6), state: 'retired' as const }] }, 't').tenants;

describe('stage planning', () => {
  it('canaries first, then one stage per value of the batch set in the given order, then "(none)"', () => {
    const p = planStages({ tenants: tenants(), canary: ['canary'], batchBy: 'region=us-west' });
    expect(p.stages).toEqual([
      { name: 'canary', tenants: ['tidb/canary'] },
      { name: 'region=us-west', tenants: ['tidb/acme-a', 'tidb/globex-a'] },
      { name: 'region=us-east', tenants: ['tidb/acme-b'] },
      { name: 'region=(none)', tenants: ['tidb/test'] },
    ]);
  });
  it('without --batch-by: canaries then the rest; a selector narrows the rest but canaries are always targets', () => {
    expect(planStages({ tenants: tenants(), canary: ['tidb/test'], selector: 'customer=acme' }).stages)
      .toEqual([{ name: 'canary', tenants: ['tidb/test'] }, { name: 'rest', tenants: ['tidb/acme-a', 'tidb/acme-b'] }]);
    expect(planStages({ tenants: tenants(), canary: [], selector: 'region' }).stages).toEqual([{ name: 'all', tenants: ['tidb/acme-a', 'tidb/acme-b', 'tidb/globex-a'] }]);
  });
  it('refuses unknown, retired or repeated canaries, unknown batch values and empty selections', () => {
    expect(() => planStages({ tenants: tenants(), canary: ['nobody'] })).toThrow('--canary nobody: no such tenant in the registry');
    expect(() => planStages({ tenants: tenants(), canary: ['gone'] })).toThrow('--canary gone: tenant tidb/gone is retired');
    expect(() => planStages({ tenants: tenants(), canary: ['canary,tidb/canary'] })).toThrow('--canary tidb/canary: named twice');
    expect(() => planStages({ tenants: tenants(), canary: [], batchBy: 'region=us-central' })).toThrow('no selected tenant (besides canaries) has region=us-central');
    expect(() => planStages({ tenants: tenants(), canary: [], selector: 'customer=nobody' })).toThrow('picks no active tenant');
  });
});

describe('endpoints', () => {
  it('default to the operator Service; --endpoint takes HOST:PORT or a unix socket', () => {
    expect(defaultEndpoint({ namespace: 'tidb', name: 'acme-a' })).toBe('acme-a-tidb.tidb.svc:4000');
    expect(parseEndpointFlags(['acme-a=127.0.0.1:4001', 'tidb/canary=/run/c.sock'], tenants())).toEqual({ 'tidb/acme-a': '127.0.0.1:4001', 'tidb/canary': '/run/c.sock' });
    expect(endpointAddress('/run/c.sock')).toEqual({ socketPath: '/run/c.sock' });
    expect(endpointAddress('[::1]:4000')).toEqual({ host: '::1', port: 4000 });
    expect(() => parseEndpointFlags(['acme-a=nohost'], tenants())).toThrow('endpoint nohost: expected HOST:PORT');
    expect(() => parseEndpointFlags(['x=h:1'], tenants())).toThrow('--endpoint x: no such tenant');
  });
});

const T0 = '2025-01-01T00:00:00.000Z';
function state(): RolloutState {
  const ms = parseMigrations('m', files({ '1_a.sql': 'CREATE TABLE a (i INT)', '2_b.sql': 'ALTER TABLE a ADD COLUMN j INT' }));
  const p = planStages({ tenants: tenants(), canary: ['canary'], batchBy: 'customer', selector: 'customer' });
  return initialState({ name: 'r', dir: '/m', migrations: ms, stages: p.stages, now: T0,
    sets: Object.fromEntries(p.tenants.map((t) => [t.id, t.sets])), endpoints: Object.fromEntries(p.tenants.map((t) => [t.id, defaultEndpoint(t)])),
    options: { selector: 'customer', canary: ['canary'], batchBy: 'customer', parallel: 2, user: 'root' } });
}
const ok = (version: number, applied: number[]) => ({ ok: true, applied, version, notices: [] });

describe('rollout state machine', () => {
  it('pending -> running -> done | failed; failed -> running on resume; statuses derived per stage and rollout', () => {
    let s = state();
    expect(rolloutStatus(s)).toBe('pending');
    s = startTenant(s, 'tidb/canary', T0);
    s = finishTenant(s, 'tidb/canary', ok(2, [1, 2]), T0);
    expect(currentStage(s)).toBe(1);
    s = startTenant(s, 'tidb/acme-a', T0);
    s = finishTenant(s, 'tidb/acme-a', { ok: false, applied: [1], version: 1, notices: [], error: 'boom' }, T0);
    expect(rolloutStatus(s)).toBe('failed');
    expect(s.tenants.find((t) => t.id === 'tidb/acme-a')).toMatchObject({ status: 'failed', error: 'boom', attempts: 1, applied: [1] });
    s = startTenant(s, 'tidb/acme-a', T0);
    expect(s.tenants.find((t) => t.id === 'tidb/acme-a')).toMatchObject({ status: 'running', attempts: 2 });
    expect(s.tenants.find((t) => t.id === 'tidb/acme-a')!.error).toBeUndefined();
    expect(() => startTenant(s, 'tidb/acme-a', T0)).toThrow(/cannot start tidb\/acme-a \(running\)/);
    expect(() => finishTenant(s, 'tidb/canary', ok(2, []), T0)).toThrow(/cannot finish/);
  });
  it('a new runner puts tenants left running by a dead runner back to pending', () => {
    const s = begin(startTenant(state(), 'tidb/canary', T0), { host: 'h', pid: 2, since: T0 }, T0);
    expect(s.tenants.find((t) => t.id === 'tidb/canary')!.status).toBe('pending');
    expect(s.runner).toEqual({ host: 'h', pid: 2, since: T0 });
  });
  it('a re-run must plan the same stages and versions; edited files are allowed and reported', () => {
    const s = state();
    const ms = parseMigrations('m', files({ '1_a.sql': 'CREATE TABLE a (i INT)', '2_b.sql': 'ALTER TABLE a ADD COLUMN j INT; -- fixed' }));
    expect(reconcile(s, s.stages, ms).changed).toEqual(['2_b.sql']);
    expect(() => reconcile(s, s.stages.slice(1), ms)).toThrow(/rollout r exists with other stages/);
    expect(() => reconcile(s, s.stages, ms.slice(0, 1))).toThrow('rollout r exists with migration versions 1,2 (now 1)');
  });
});

describe('views', () => {
  let s: RolloutState;
  beforeEach(() => {
    s = state();
    s = finishTenant(startTenant(s, 'tidb/canary', T0), 'tidb/canary', ok(2, [1, 2]), T0);
    s = finishTenant(startTenant(s, 'tidb/acme-a', T0), 'tidb/acme-a', ok(2, [1, 2]), T0);
    s = finishTenant(startTenant(s, 'tidb/acme-b', T0), 'tidb/acme-b', { ok: false, applied: [1], version: 1, notices: [], error: '2_b.sql statement 1: ER_DUP_FIELDNAME (1060): Duplicate column name \'j\'' }, T0);
  });
  it('status grouped by a set: stages, groups with counts, tenants', () => {
    expect(statusText(s, { groupBy: 'customer' })).toBe(`rollout r: failed (target version 2: 1_a.sql, 2_b.sql)

STAGE  NAME             STATUS   PENDING  RUNNING  DONE  FAILED
1      canary           done     0        0        1     0
2      customer=acme    failed   0        0        1     1
3      customer=globex  pending  1        0        0     0

CUSTOMER  STATUS   PENDING  RUNNING  DONE  FAILED  TENANTS
acme      failed   0        0        1     1       2
globex    pending  1        0        0     0       1
(none)    done     0        0        1     0       1

TENANT         CUSTOMER  STAGE            STATUS   VERSION  DETAIL
tidb/acme-a    acme      customer=acme    done     2
tidb/acme-b    acme      customer=acme    failed   1        2_b.sql statement 1: ER_DUP_FIELDNAME (1060): Duplicate column name 'j'
tidb/globex-a  globex    customer=globex  pending  0
tidb/canary    (none)    canary           done     2

fix the cause, then: tidb-mesh rollout resume r (done tenants are not re-run)
`);
  });
  it('status JSON carries the same per-group and per-tenant facts', () => {
    const j = JSON.parse(statusJson(s, { groupBy: 'customer' }));
    expect(j).toMatchObject({ name: 'r', status: 'failed', target: 2, counts: { pending: 1, running: 0, done: 2, failed: 1 } });
    expect(j.groups.map((g: any) => [g.value, g.status, g.counts.done, g.counts.failed, g.tenants.map((t: any) => t.id)]))
      .toEqual([['acme', 'failed', 1, 1, ['tidb/acme-a', 'tidb/acme-b']], ['globex', 'pending', 0, 0, ['tidb/globex-a']], [null, 'done', 1, 0, ['tidb/canary']]]);
    expect(j.tenants.find((t: any) => t.id === 'tidb/acme-b')).toMatchObject({ stage: 'customer=acme', status: 'failed', version: 1, applied: [1], error: expect.stringMatching(/Duplicate column/) });
  });
  it('progress: a frame with bars for the terminal, lines for logs', () => {
    const frame = progressFrame(s, {}, { groupBy: 'customer' });
    expect(frame.split('\n')[0]).toBe('rollout r: failed, stage 2/3 customer=acme');
    expect(frame).toContain('  2. customer=acme    failed   [##########..........]  1/2');
    expect(frame).toContain('  by customer: acme 1/2 (1 failed), globex 0/1, (none) 1/1');
    const prev = state();
    expect(transitionLines(prev, s)).toEqual([
      'stage 1/3 canary: tidb/canary done (version 2; applied 1,2)',
      'stage 2/3 customer=acme: tidb/acme-a done (version 2; applied 1,2)',
      "stage 2/3 customer=acme: tidb/acme-b FAILED: 2_b.sql statement 1: ER_DUP_FIELDNAME (1060): Duplicate column name 'j'",
      'stage 1/3 canary: done',
      'stage 2/3 customer=acme: failed',
    ]);
  });
  it('the dry-run plan lists migrations with statements and stages with endpoints', () => {
    const ms = parseMigrations('m', files({ '1_a.sql': 'USE shop;\nCREATE TABLE a (\n  i INT\n)' }));
    const text = planText({ name: 'r', migrations: ms, stages: s.stages.slice(0, 2), endpoints: { 'tidb/canary': '/c.sock', 'tidb/acme-a': 'acme-a-tidb.tidb.svc:4000', 'tidb/acme-b': 'h:1' }, parallel: 1 });
    expect(text).toBe(`rollout r: dry run, nothing is touched
migrations up to version 1:
  1_a.sql (version 1, 2 statements)
     1* USE shop
     2  CREATE TABLE a (
          i INT
        )
    (* session statement: replayed on every attempt, not recorded)
stages (at most 1 tenant at once; a stage starts when the previous one is done and stops at its first failure):
  1. canary
       tidb/canary  /c.sock
  2. customer=acme
       tidb/acme-a  acme-a-tidb.tidb.svc:4000
       tidb/acme-b  h:1
each tenant runs the versions missing from its tidb_mesh.schema_migrations, in order, recording every statement as it succeeds
`);
    expect(statementsOf('SELECT 1')[0].checksum).toHaveLength(64);
  });
});
