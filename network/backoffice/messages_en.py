"""English words of the back-office pages (console, partner portal, finance). Keys are shared
with messages_fa.py; the shared page words (language switch, sign out) come from network/web."""

MESSAGES: dict[str, str] = {
    "bo_app_name": "Points Network back office",
    "bo_console": "Operator's console",
    "bo_portal": "Partner portal",
    "bo_signin_title": "Back-office sign-in",
    "bo_signin_intro": "Sign in with your email, your password and the 6-digit code from your "
                       "authenticator app.",
    "bo_login_label": "Email",
    "bo_password_label": "Password",
    "bo_code_label": "Authenticator code",
    "bo_sign_in": "Sign in",
    "bo_signed_in_as": "{name} ({role})",
    "bo_forbidden_title": "Not allowed",
    "bo_forbidden_message": "Your role ({role}) may not open this page or do this action.",
    "bo_not_found_title": "Not found",
    "bo_not_found_message": "There is nothing here.",
    "bo_error_SIGNIN_FAILED": "The email, password or code is not right. Codes work once; "
                              "wait for the next one if you just used this one.",
    "bo_error_LOCKED": "Too many failed sign-ins. Try again in {minutes} minutes.",
    "bo_error_CSRF_FAILED": "This form was out of date. Please try again.",
    "bo_notice_signed_out": "You are signed out.",
    "role_operator": "operator", "role_support": "support", "role_finance": "finance",
    "role_viewer": "viewer", "role_manager": "manager", "role_cashier": "cashier",
    "role_analyst": "analyst",
    "nav_members": "Members",
    "nav_goodwill": "Approvals",
    "nav_audit": "Audit log",
    "nav_accounts": "Accounts",
    # Navigation of settlement's pages (settlement/web) and the partner portal
    # (partners/portal): every back-office page draws the one navigation bar.
    "nav_dashboards": "Dashboards",
    "nav_finance": "Finance",
    "nav_p_dashboard": "Dashboard",
    "nav_p_statements": "Statements",
    "nav_p_transactions": "Transactions",
    "nav_p_members": "Members",
    "nav_p_campaigns": "Campaigns",
    "nav_p_keys": "API keys",
    "nav_p_till": "Coupons",
    "nav_p_webhooks": "Webhooks",
    "nav_campaigns": "Campaigns",
    "nav_charities": "Charities",
    "nav_partners": "Partners",
    "nav_rewards": "Rewards",
    "nav_tiers": "Tiers",
}
