from django.urls import path

from accounts import cvat_tokens, views
from accounts.api import Router

router = Router()
router.register("users", views.UserViewSet, basename="user")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("auth/tokens", views.AccessTokenViewSet, basename="accesstoken")
# The same tokens in CVAT's shape, where CVAT's SDK looks for them.
router.register("auth/access_tokens", cvat_tokens.CvatAccessTokenViewSet, basename="cvat-accesstoken")

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="register"),
    path("auth/login", views.LoginView.as_view(), name="login"),
    path("auth/logout", views.LogoutView.as_view(), name="logout"),
    *router.urls,
]
