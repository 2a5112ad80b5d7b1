-- The billing month of each account, cut in its own timezone, and its mismatches.
-- Loaded on every start, in file order (a macro is bound when it is created, so one
-- that uses another comes after it).

-- Each account of the scope with its billing month [m_from, m_to) as UTC instants: the
-- month `p_month` (YYYY-MM) cut at local midnights of the account's own timezone, and as
-- 15-minute slots [s_from, s_to) when both ends fall on one (every offset in use since
-- 1972 is a multiple of 15 minutes; older local mean times are not, and `aligned` is
-- false then).
CREATE OR REPLACE MACRO billing_accounts(p_accounts, p_month) AS TABLE
  SELECT *, epoch(m_from) % 900 = 0 AND epoch(m_to) % 900 = 0 AS aligned,
    floor(epoch(m_from) / 900)::BIGINT AS s_from, floor(epoch(m_to) / 900)::BIGINT AS s_to
  FROM (
    SELECT id AS account_id, auth_id, name, timezone,
      timezone(timezone, strptime(p_month || '-01', '%Y-%m-%d'))::TIMESTAMP AS m_from,
      timezone(timezone, strptime(p_month || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH)::TIMESTAMP AS m_to
    FROM accounts WHERE list_contains(p_accounts, id)
  );

-- The billing_issues of each account's month (in its timezone).
CREATE OR REPLACE MACRO billing_month_issues(p_accounts, p_month) AS TABLE
  SELECT i.* FROM billing_issues i
  JOIN billing_accounts(p_accounts, p_month) a ON i.account_id = a.account_id AND i."at" >= a.m_from AND i."at" < a.m_to;

-- The mismatched rows of each account's month, as the mismatch reports show them.
CREATE OR REPLACE MACRO billing_mismatch_rows(p_accounts, p_month) AS TABLE
  SELECT account_id, problem, ref_type, ref_id, ledger_id,
    strftime("at", '%Y-%m-%dT%H:%M:%S.%gZ') AS occurred_at,
    record_credits::DECIMAL(18,4)::VARCHAR AS record_credits,
    charged::DECIMAL(18,4)::VARCHAR AS charged_credits,
    (coalesce(record_credits, 0) - charged)::DECIMAL(18,4)::VARCHAR AS difference
  FROM billing_month_issues(p_accounts, p_month);
