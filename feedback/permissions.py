"""Who may do what with feedback: sources post their own data; people read; CX managers post."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from feedback.authentication import SourceClient
from feedback.roles import user_is_cx_manager

SAFE_METHODS = permissions.SAFE_METHODS


def is_source_request(request: Request) -> bool:
    return isinstance(request.user, SourceClient)


class FeedbackAccess(permissions.BasePermission):
    """Reads: any signed-in person (never an API key). Writes: API keys and CX managers."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            self.message = "Authentication credentials were not provided."
            return False
        if request.method in SAFE_METHODS:
            if is_source_request(request):
                self.message = "An API key may post data for its source but cannot read data."
                return False
            return True
        if is_source_request(request):
            return True
        if user_is_cx_manager(user):
            return True
        self.message = "Only CX managers (or a source's API key) may post data."
        return False


class CustomerRecordAccess(FeedbackAccess):
    """One customer: read as feedback; PATCH by API keys (their own customers, checked by
    the service) and CX managers; DELETE (erasure) by CX managers and administrators only."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method == "DELETE" and request.user and request.user.is_authenticated:
            if user_is_cx_manager(request.user):
                return True
            self.message = "Only CX managers and administrators may erase a customer."
            return False
        return super().has_permission(request, view)


class CustomerPrivacyAccess(permissions.BasePermission):
    """Everything about one customer (the export): CX managers and administrators only."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            self.message = "Authentication credentials were not provided."
            return False
        if user_is_cx_manager(user):
            return True
        self.message = "Only CX managers and administrators may export a customer's data."
        return False
