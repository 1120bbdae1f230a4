"""The partner portal (/partner): a partner's staff see their own partner only. Transactions
(search, filter, CSV), members enrolled there, their campaigns and how they did, their API keys
(a manager may revoke one). The dashboard and monthly statements are settlement's pages
(settlement/web). Sign-in, roles and the `require` check are the back office's."""
