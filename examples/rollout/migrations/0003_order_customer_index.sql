-- DDL is not transactional: IF NOT EXISTS makes a re-run after a crash harmless.
CREATE INDEX IF NOT EXISTS idx_customer ON shop.orders (customer_id);
ALTER TABLE shop.orders ADD COLUMN IF NOT EXISTS note VARCHAR(64);
