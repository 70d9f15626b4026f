"""Import cell cleaners: dates, sources, statuses, countries, owners and custom values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tandem.accounts.models import User
from tandem.crm.importing.mapping import fold_key
from tandem.crm.models import Source
from tandem.crm.normalise import clean_choice, clean_country, clean_text
from tandem.errors import InvalidInput

MAX_CUSTOM_VALUE = 2000  # characters per custom-field cell: a JSON column is no place for blobs

_DATE_FORMATS = (
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


def parse_when(raw: str, *, field: str) -> datetime:
    """A date or date-time in ISO 8601 or a common export format, as aware UTC."""
    text = raw.strip()
    value: datetime | None = None
    if len(text) <= 40:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    value = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if value is None:
        raise InvalidInput(
            f"{field} {text[:40]!r} is not a date (use YYYY-MM-DD or ISO 8601)", field=field
        )
    if not 1900 <= value.year <= 2200:
        raise InvalidInput(f"{field} {text[:40]!r} is out of range", field=field)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


LEAD_STATUS_ALIASES = {
    "opennotcontacted": "open",
    "notcontacted": "new",
    "workingcontacted": "in_progress",
    "working": "in_progress",
    "contacted": "attempted_to_contact",
    "attempted": "attempted_to_contact",
    "closednotconverted": "unqualified",
    "closedconverted": "connected",
    "opendeal": "connected",
    "disqualified": "unqualified",
}
SOURCE_ALIASES = {
    **{fold_key(label): value for value, label in Source.choices},
    **{fold_key(value): value for value in Source.values},
    "referrals": "referral",
    "partnerreferral": "referral",
    "employeereferral": "referral",
    "externalreferral": "referral",
    "wordofmouth": "referral",
    "web": "direct",
    "website": "direct",
    "tradeshow": "events",
    "event": "events",
    "webinar": "events",
    "conference": "events",
    "coldcall": "outbound",
    "coldemail": "outbound",
    "purchasedlist": "import",
    "offlinesources": "import",
    "othercampaigns": "other",
    "socialmedia": "organic_social",
    "emailcampaign": "email",
    "googleads": "paid_search",
    "adwords": "paid_search",
    "ppc": "paid_search",
    "seo": "organic_search",
}
SUBSCRIPTION_ALIASES = {
    "optedin": "subscribed",
    "optin": "subscribed",
    "optedout": "unsubscribed",
    "optout": "unsubscribed",
    "unsubscribe": "unsubscribed",
    "hardbounce": "bounced",
    "bounce": "bounced",
    "spamreport": "complained",
    "spam": "complained",
    "none": "not_subscribed",
}
_COUNTRIES = {
    "unitedstates": "US",
    "unitedstatesofamerica": "US",
    "usa": "US",
    "america": "US",
    "unitedkingdom": "GB",
    "uk": "GB",
    "greatbritain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northernireland": "GB",
    "canada": "CA",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "spain": "ES",
    "espana": "ES",
    "italy": "IT",
    "netherlands": "NL",
    "thenetherlands": "NL",
    "holland": "NL",
    "belgium": "BE",
    "switzerland": "CH",
    "austria": "AT",
    "ireland": "IE",
    "portugal": "PT",
    "sweden": "SE",
    "norway": "NO",
    "denmark": "DK",
    "finland": "FI",
    "iceland": "IS",
    "poland": "PL",
    "czechrepublic": "CZ",
    "czechia": "CZ",
    "hungary": "HU",
    "romania": "RO",
    "greece": "GR",
    "turkey": "TR",
    "turkiye": "TR",
    "russia": "RU",
    "ukraine": "UA",
    "israel": "IL",
    "unitedarabemirates": "AE",
    "uae": "AE",
    "saudiarabia": "SA",
    "india": "IN",
    "china": "CN",
    "japan": "JP",
    "southkorea": "KR",
    "korea": "KR",
    "singapore": "SG",
    "hongkong": "HK",
    "taiwan": "TW",
    "australia": "AU",
    "newzealand": "NZ",
    "brazil": "BR",
    "mexico": "MX",
    "argentina": "AR",
    "chile": "CL",
    "colombia": "CO",
    "southafrica": "ZA",
    "nigeria": "NG",
    "kenya": "KE",
    "egypt": "EG",
    "indonesia": "ID",
    "philippines": "PH",
    "vietnam": "VN",
    "thailand": "TH",
    "malaysia": "MY",
    "pakistan": "PK",
    "luxembourg": "LU",
}


def parse_country(raw: str) -> str:
    """A two-letter ISO country code from a code or a common English country name."""
    code = _COUNTRIES.get(fold_key(raw))
    if code:
        return code
    try:
        return clean_country(raw)
    except InvalidInput:
        raise InvalidInput(
            f"country {raw.strip()[:40]!r} is neither a two-letter ISO code nor a known country name",
            field="country",
        ) from None


class Owners:
    """Active users by username, email or unique full name, loaded once per import."""

    def __init__(self) -> None:
        users = list(User.objects.filter(is_active=True).select_related("team").order_by("id"))
        self.by_key: dict[str, User | None] = {u.username.lower(): u for u in users}
        usernames = set(self.by_key)
        for user in users:
            for value in {user.email.strip().lower(), user.get_full_name().strip().lower()}:
                if value and value not in usernames:
                    # A shared email or name points at nobody rather than at a guess.
                    self.by_key[value] = None if value in self.by_key else user

    def find(self, raw: str) -> User:
        """The active user a cell names, or InvalidInput."""
        user = self.by_key.get(raw.strip().lower())
        if user is None:
            raise InvalidInput(
                f"owner {raw.strip()[:60]!r} is not an active user (give a username or email, "
                f"or ignore the column)",
                field="owner",
            )
        return user


def custom_value(raw: str, header: str) -> str:
    """A custom-field cell, trimmed, refused when too long or holding a NUL character."""
    text = raw.strip()
    if len(text) > MAX_CUSTOM_VALUE:
        raise InvalidInput(f"column {header[:60]!r} is longer than {MAX_CUSTOM_VALUE} characters")
    if "\x00" in text:
        raise InvalidInput(f"column {header[:60]!r} contains a NUL character")
    return text


def memo(fn: Callable[[str], Any], limit: int = 20_000) -> Callable[[str], Any]:
    """Cache a cleaner per raw cell: stages, statuses, owners and companies repeat row after row."""
    cache: dict[str, tuple[bool, Any, str | None]] = {}

    def clean(raw: str) -> Any:
        hit = cache.get(raw)
        if hit is None:
            try:
                hit = (True, fn(raw), None)
            except InvalidInput as exc:
                hit = (False, str(exc), exc.field)
            if len(cache) < limit:
                cache[raw] = hit
        if not hit[0]:
            raise InvalidInput(hit[1], field=hit[2])
        return hit[1]

    return clean


def text_cleaner(name: str, max_length: int) -> Callable[[str], str]:
    """A cleaner for a text field of at most max_length characters."""
    return lambda raw: clean_text(raw, field=name, max_length=max_length)


def choice_cleaner(name: str, choices: list[str], aliases: dict[str, str]) -> Callable[[str], str]:
    """A cleaner for a choice field that also accepts other CRMs' spellings (folded keys)."""
    allowed = list(choices)
    return lambda raw: clean_choice(raw, field=name, choices=allowed, aliases=aliases)
