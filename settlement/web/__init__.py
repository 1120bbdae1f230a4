"""Settlement's pages in the back office: the KPI dashboards (/console/dashboards), the finance
page (/console/finance), and the partner portal's dashboard and statements (/partner/...)."""
