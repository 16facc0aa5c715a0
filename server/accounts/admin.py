from django.contrib import admin

from accounts.models import AccessToken, Membership, Organization


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["id", "slug", "name", "owner", "created_date"]
    search_fields = ["slug", "name"]
    raw_id_fields = ["owner"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "organization", "role", "joined_date"]
    list_filter = ["role"]
    search_fields = ["user__username", "organization__slug"]
    raw_id_fields = ["user", "organization"]


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "name",
        "prefix",
        "created_date",
        "last_used_date",
        "expiry_date",
        "revoked",
    ]
    list_filter = ["revoked"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["prefix", "key_hash", "created_date", "updated_date", "last_used_date"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request):  # keys are issued through the API, which shows them once
        return False
