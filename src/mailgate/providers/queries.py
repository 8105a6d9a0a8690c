"""Read side: the active provider, one provider, and pages of providers."""

from __future__ import annotations

from mailgate.errors import not_found
from mailgate.providers.model import Page, Provider
from mailgate.store.providers import ProviderRepository

DEFAULT_LIMIT = 1000
NOT_FOUND_ID = "QUERY-fwofw"


class ProviderQueries:
    def __init__(self, repo: ProviderRepository) -> None:
        self._repo = repo

    async def active(self, instance_id: str) -> Provider:
        """The instance's active provider, or NOT_FOUND."""
        provider = await self._repo.get_active(instance_id)
        if provider is None:
            raise not_found(NOT_FOUND_ID)
        return provider

    async def by_id(self, instance_id: str, provider_id: str) -> Provider:
        """A provider of this instance; another instance's id is as unknown as a made-up one."""
        provider = await self._repo.get(instance_id, provider_id)
        if provider is None:
            raise not_found(NOT_FOUND_ID)
        return provider

    async def page(self, instance_id: str, offset: int, limit: int, ascending: bool) -> Page:
        """A page in creation order; limit 0 means the default (larger limits are refused upstream)."""
        return await self._repo.page(instance_id, offset, limit or DEFAULT_LIMIT, ascending)

    async def smtp_providers(self, instance_id: str) -> list[Provider]:
        """Every SMTP provider of the instance, oldest first (Okta's list has no paging)."""
        found: list[Provider] = []
        offset = 0
        while True:
            page = await self._repo.page(instance_id, offset, DEFAULT_LIMIT, ascending=True)
            found.extend(provider for provider in page.providers if provider.smtp is not None)
            offset += len(page.providers)
            if len(page.providers) < DEFAULT_LIMIT:
                return found

    async def smtp_by_id(self, instance_id: str, provider_id: str) -> Provider:
        """An SMTP provider of this instance; an HTTP provider's id is as unknown as a made-up one."""
        provider = await self.by_id(instance_id, provider_id)
        if provider.smtp is None:
            raise not_found(NOT_FOUND_ID)
        return provider
