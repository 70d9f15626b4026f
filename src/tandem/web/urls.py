from django.contrib.auth import views as auth_views
from django.urls import include, path

from tandem.web import views

app_name = "web"

# Feature apps' pages join this namespace so that templates and navigation use one prefix.
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("tandem.crm.urls")),
    path("settings/", include("tandem.accounts.urls")),
    path("marketing/sources/", include("tandem.tracking.staff_urls")),
    path("marketing/", include("tandem.marketing.urls")),
    path("leads/", include("tandem.leads.urls")),
    path("sales/", include("tandem.sales.urls")),
    path("dashboards/", include("tandem.dashboards.urls")),
]
