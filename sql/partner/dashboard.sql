-- The partner dashboard (docs/reports.md "Partner dashboard and analytics"): the partner,
-- its customer accounts, their combined ledger balance, and today's calls (UTC) grouped
-- for the roll-ups. Money stays exact decimal text.
SELECT
  (SELECT {'id': id, 'name': name, 'email': email} FROM partners WHERE id = $partner_id) AS partner,
  (SELECT list({'auth_id': auth_id, 'name': name, 'email': email, 'phone': phone, 'is_active': is_active,
                'created_at': strftime(created_at, '%Y-%m-%dT%H:%M:%S.%gZ')} ORDER BY id)
     FROM accounts WHERE list_contains($accounts, id)) AS customers,
  (SELECT coalesce(sum(credits), 0) FROM credit_transactions
     WHERE in_scope(account_id, $accounts)
       AND created_at < $now::TIMESTAMP)::VARCHAR AS total_balance,
  (SELECT list({'day': day, 'direction': direction, 'product': product, 'total_calls': total_calls,
                'answered_calls': answered_calls, 'talk_sec': talk_sec, 'cost': cost::VARCHAR})
     FROM partner_call_groups($accounts, $from::TIMESTAMP, $to::TIMESTAMP)) AS groups
