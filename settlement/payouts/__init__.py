"""Paying a closed settlement run through Stripe: transfers out, invoices or payment intents in."""
