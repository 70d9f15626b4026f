"""UTM tags: generated for campaigns, parsed from traffic (case- and whitespace-tolerant)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.utils.text import slugify

UTM_KEYS = ("source", "medium", "campaign", "term", "content")
MAX_TAG = {"source": 100, "medium": 100, "campaign": 150, "term": 150, "content": 150}

_SPACES = re.compile(r"\s+")

# The source/medium a new campaign is tagged with by default, per channel.
DEFAULT_TAGS: dict[str, tuple[str, str]] = {
    "email": ("newsletter", "email"),
    "paid_search": ("google", "cpc"),
    "paid_social": ("linkedin", "paid_social"),
    "organic_search": ("google", "organic"),
    "organic_social": ("linkedin", "social"),
    "display": ("display_network", "display"),
    "direct_mail": ("direct_mail", "print"),
    "events": ("event", "offline"),
    "webinar": ("webinar", "webinar"),
    "content": ("blog", "content"),
    "referral": ("referral", "referral"),
    "partner": ("partner", "partner"),
    "outbound": ("sales", "outbound"),
}

# utm_medium spellings seen in the wild → channel (after clean_tag).
MEDIUM_CHANNELS: dict[str, str] = {
    "cpc": "paid_search",
    "ppc": "paid_search",
    "paid_search": "paid_search",
    "paidsearch": "paid_search",
    "sem": "paid_search",
    "paid_social": "paid_social",
    "paidsocial": "paid_social",
    "social_paid": "paid_social",
    "display": "display",
    "banner": "display",
    "cpm": "display",
    "email": "email",
    "e-mail": "email",
    "newsletter": "email",
    "social": "organic_social",
    "organic_social": "organic_social",
    "social-network": "organic_social",
    "organic": "organic_search",
    "organic_search": "organic_search",
    "seo": "organic_search",
    "referral": "referral",
    "partner": "partner",
    "affiliate": "partner",
    "webinar": "webinar",
    "event": "events",
    "events": "events",
    "offline": "events",
    "print": "direct_mail",
    "direct_mail": "direct_mail",
    "mail": "direct_mail",
    "content": "content",
    "outbound": "outbound",
}

SEARCH_HOSTS = (
    "google.",
    "bing.com",
    "duckduckgo.com",
    "yahoo.",
    "baidu.com",
    "yandex.",
    "ecosia.org",
)
SOCIAL_HOSTS = (
    "linkedin.com",
    "lnkd.in",
    "twitter.com",
    "x.com",
    "t.co",
    "facebook.com",
    "instagram.com",
    "youtube.com",
    "reddit.com",
    "news.ycombinator.com",
    "mastodon.social",
)


def clean_tag(value: Any, *, key: str = "campaign") -> str:
    """A tag as stored and compared: trimmed, lower case, inner whitespace collapsed, bounded."""
    if value is None:
        return ""
    text = _SPACES.sub(" ", str(value)).strip().lower()
    return text[: MAX_TAG.get(key, 150)]


def parse_utm(values: Mapping[str, Any] | None) -> dict[str, str]:
    """The UTM tags in a mapping whose keys are `utm_source` or `source` (any case, any spaces)."""
    found: dict[str, str] = {}
    for raw_key, raw_value in (values or {}).items():
        key = clean_tag(raw_key, key="source").removeprefix("utm_")
        if key in UTM_KEYS and not isinstance(raw_value, (dict, list)):
            value = clean_tag(raw_value, key=key)
            if value:
                found[key] = value
    return found


def utm_from_url(url: str) -> dict[str, str]:
    """The UTM tags in a URL's query string (a malformed URL simply has none)."""
    try:
        query = urlsplit(url or "").query
    except ValueError:
        return {}
    pairs = {
        k: v
        for k, v in parse_qsl(query, keep_blank_values=False)
        if k.strip().lower().startswith("utm_")
    }
    return parse_utm(pairs)


def host_of(url: str) -> str:
    """The lower-case host of a URL, or '' when it has none or is malformed."""
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def tag_url(
    url: str, *, source: str, medium: str, campaign: str, term: str = "", content: str = ""
) -> str:
    """The URL with these UTM tags set (replacing any it had), other parameters kept in order."""
    parts = urlsplit(url)
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_")
    ]
    tags = {
        "source": source,
        "medium": medium,
        "campaign": campaign,
        "term": term,
        "content": content,
    }
    kept += [(f"utm_{k}", v) for k, v in tags.items() if v]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))


def campaign_tag_for(name: str) -> str:
    """A utm_campaign value made from a campaign name: lower case, underscores, bounded."""
    return (slugify(name).replace("-", "_") or "campaign")[: MAX_TAG["campaign"] - 8]


def channel_for(
    *, utm: Mapping[str, str], referrer_host: str, own_hosts: tuple[str, ...] = ()
) -> str | None:
    """The marketing channel of a visit, from its medium, else its referrer; None for direct.

    Intuition: utm_medium is what the marketer declared, so it wins; without tags, a search
    engine referrer is organic search, a social network organic social, any other outside
    site a referral, and our own pages or no referrer are not a marketing touch at all.
    """
    medium = utm.get("medium", "")
    if medium in MEDIUM_CHANNELS:
        return MEDIUM_CHANNELS[medium]
    if (
        medium
        and utm.get("source", "")
        and any(s in utm["source"] for s in ("linkedin", "facebook", "twitter", "instagram"))
    ):
        return "paid_social" if "paid" in medium or medium in {"cpm", "cpc"} else "organic_social"
    host = referrer_host.removeprefix("www.")
    # Compared without "www." on both sides: www.example.com → example.com is internal.
    own = {h.removeprefix("www.") for h in own_hosts if h}
    if not host or host in own or any(host.endswith("." + h) for h in own):
        return "email" if utm.get("source") in {"newsletter", "email"} else None
    if any(h in host for h in SEARCH_HOSTS):
        return "organic_search"
    if any(host == h or host.endswith("." + h) for h in SOCIAL_HOSTS):
        return "organic_social"
    return "referral"


_SEPARATORS = re.compile(r"[\s_-]+")


def match_key(value: Any) -> str:
    """A tag or campaign name reduced for matching: "Spring Launch", "spring_launch" → "spring_launch"."""
    return _SEPARATORS.sub("_", clean_tag(value)).strip("_")
