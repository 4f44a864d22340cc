"""Configuration: one TOML file, validated, every key overridable from the environment.

Precedence: explicit values > ``ONCALL_TUI_*`` environment (``__`` for nesting, e.g.
``ONCALL_TUI_SOURCES__PAGERDUTY__SECRET``) > the TOML file > defaults.
pydantic-settings reads them only when needed (:func:`_read_plainly`): its import costs ~150 ms.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import tomllib
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from oncall_tui.core.validation_text import describe_problem, location
from oncall_tui.paths import chosen_config_file, db_location, default_db_path, default_export_dir
from oncall_tui.sources import SOURCE_MODULES
from oncall_tui.sources.base import ServiceMapping

ENV_PREFIX = "ONCALL_TUI_"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

DEFAULT_SILENCE_S = 900.0
"""``[health] silence_s`` (defined here: every command loads settings, few need core.health)."""


class Section(BaseModel):
    """A config file table. Unknown keys are errors: a typo must not drop a source's secret."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # validators built on first use


class ServerSettings(Section):
    host: str = "127.0.0.1"
    """Loopback by default; any other address requires credentials on every source."""
    port: int = Field(9977, ge=0, le=65535)
    max_body_bytes: int = Field(1_048_576, gt=0)
    """Bodies over this are refused with 413 before they are read."""
    read_timeout_s: float = Field(10.0, gt=0)
    """A sender that stops sending mid-body gets 408 after this long (slow clients)."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Host names requests may name besides the loopback names and ``host`` (421 otherwise):
    the names senders reach this machine by, when it listens beyond loopback."""

    @property
    def is_loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")


class SourceSettings(Section):
    """Credentials for one sender. Signing senders use ``secret``; others a token or basic auth."""

    secret: SecretStr | None = None
    """HMAC secret (PagerDuty, GitHub, Grafana)."""
    token: SecretStr | None = None
    """Bearer token expected in ``Authorization: Bearer <token>``."""
    basic_user: str | None = None
    basic_password: SecretStr | None = None
    silence_s: float | None = Field(None, gt=0)
    """Mark this source silent after this long without a delivery (default: ``[health]``)."""

    @property
    def auth_kinds(self) -> list[str]:
        kinds = []
        if self.secret is not None:
            kinds.append("hmac")
        if self.token is not None:
            kinds.append("bearer")
        if self.basic_user is not None and self.basic_password is not None:
            kinds.append("basic")
        return kinds


class PollerSettings(Section):
    url: str
    interval_s: float = Field(15.0, gt=0)
    token: SecretStr | None = None
    """Bearer token (Alertmanager behind a proxy) or PagerDuty REST API key."""
    service_ids: list[str] = Field(default_factory=list)
    """PagerDuty only: restrict polling to these service ids."""


class PollersSettings(Section):
    alertmanager: PollerSettings | None = None
    pagerduty: PollerSettings | None = None


class ServicesSettings(Section):
    """How a service name is found in labels/tags, and renames onto catalog names."""

    label_keys: list[str] = Field(default_factory=lambda: list(ServiceMapping().label_keys))
    aliases: dict[str, str] = Field(default_factory=dict)

    def mapping(self) -> ServiceMapping:
        return ServiceMapping(label_keys=tuple(self.label_keys), aliases=dict(self.aliases))


class IncidentSettings(Section):
    correlation_window_s: float = Field(1800, ge=0)
    """Firing signals of a service join its active incident opened within this window."""
    suspect_window_s: float = Field(3600, ge=0)
    """Deploys and rollbacks this long before an incident opened are linked as suspects."""


class SessionSettings(Section):
    idle_after_s: float = Field(900, gt=0)
    """A session not seen for this long is idle (still targeted)."""
    end_after_s: float = Field(4 * 3600, gt=0)
    """A session not seen for this long is ended (no longer targeted)."""
    hook_server_idle_s: float = Field(600, ge=0)
    """With no ``serve`` running, a hook that must write starts ``oncall-tui hook-server`` in the
    background to answer the hooks after it fast; it exits after this long without a request.
    0: never start one (each write is then made by the hook itself, ~0.3 s)."""


class PolicySettings(Section):
    mode: Literal["observe", "approve", "auto"] = "approve"
    auto_approve: list[str] | None = None
    """Unset: stand-downs in ``approve`` mode, everything in ``auto``; ``[]``: no rule."""
    rate_limit_per_hour: int = Field(12, ge=1)


class HealthSettings(Section):
    silence_s: float = Field(DEFAULT_SILENCE_S, gt=0)
    """A configured source with no delivery for this long is marked silent (header, status)."""


class OncallSettings(Section):
    contact: str | None = Field(None, max_length=120)
    """Who agents are told to ask when no engineer has approved their guidance yet: a name, a
    handle or a channel (``#payments-oncall``). Shown in every context document."""


class CatalogSettings(Section):
    owners: dict[str, str | list[str]] = Field(default_factory=dict)
    """CODEOWNERS owner → service name(s), e.g. ``"@acme/payments-team" = "payment-processor"``:
    for owners the catalog does not list, or to be more precise than a team owning several."""

    def owner_map(self) -> dict[str, list[str]]:
        return {k: [v] if isinstance(v, str) else list(v) for k, v in self.owners.items()}


class ExportSettings(Section):
    dir: Path = Field(default_factory=default_export_dir)
    interval_s: float = Field(0.25, gt=0)
    """During an alert storm on an incident, its files are written at most every interval_s."""
    calm_interval_s: float = Field(0.05, gt=0)
    """Otherwise a change reaches the files within this of the previous write."""
    repo_writers: list[Literal["agents-md", "claude-md", "cursor"]] = Field(default_factory=list)
    """Opt-in pointers in the sessions' checkouts: an AGENTS.md block, a CLAUDE.md import block,
    ``.cursor/rules/oncall.mdc``. Off by default: these files belong to the repository."""


class DiscoverSettings(Section):
    """Sessions found from the agents' own transcript files, for agents without our hook."""

    claude_projects: Path = Path("~/.claude/projects")
    """Claude Code's transcripts, ``<project>/<session-id>.jsonl`` (``~`` is expanded)."""
    codex_sessions: Path = Path("~/.codex/sessions")
    """Codex's rollouts, ``YYYY/MM/DD/rollout-*.jsonl``."""
    active_within_s: float = Field(3600, gt=0)
    """Only transcripts written within this long are read; older sessions are over."""
    interval_s: float = Field(60, ge=0)
    """How often ``serve`` looks for sessions (0: never)."""


DEFAULT_AGENT_TRAILERS = (
    "Co-Authored-By: Claude",
    "Co-authored-by: .*Copilot",
    "Generated-by:",
    "Co-authored-by: Codex",
    "Co-authored-by: Cursor",
    "Co-authored-by: Gemini",
)


class CommitsSettings(Section):
    """Commits made in agent sessions, and the commits each deploy shipped."""

    agent_trailers: list[str] = Field(default_factory=lambda: list(DEFAULT_AGENT_TRAILERS))
    """Regular expressions (case-insensitive, matched at the start of a trailer line) whose
    trailer marks a commit as an agent's, e.g. ``Co-Authored-By: Claude``."""
    interval_s: float = Field(15, ge=0)
    """How often ``serve`` resolves new deploys and scans the sessions' repositories (0: never)."""
    first_deploy_depth: int = Field(200, ge=1, le=1000)
    """A service's first deploy has no previous one: this many of its ancestors are its range."""

    @field_validator("agent_trailers")
    @classmethod
    def _valid_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc.msg})") from None
        return patterns


class GitHubApiSettings(Section):
    token: SecretStr | None = None
    """With a token, deploy ranges of repositories without a local clone come from the GitHub
    compare API."""
    api_url: str = "https://api.github.com"
    """GitHub Enterprise Server: ``https://HOST/api/v3``."""

    @field_validator("api_url")
    @classmethod
    def _https_or_loopback(cls, url: str) -> str:
        # The token travels with every request: never in clear beyond this machine.
        host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if not url.startswith("https://") and not (
            url.startswith("http://") and (host in LOOPBACK_HOSTS or host.startswith("127."))
        ):
            raise ValueError("must be an https:// URL (http:// only on loopback)")
        return url


class ReposSettings(Section):
    """Local clones by ``owner/name`` (``"acme/payments" = "/src/payments"``), and the GitHub
    API for repositories without one (``[repos.github]``)."""

    github: GitHubApiSettings = Field(default_factory=GitHubApiSettings)
    clones: dict[str, Path] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _clones_by_name(cls, data: Any) -> Any:
        # The file names clones as keys of [repos] itself; every key with a slash is one.
        if not isinstance(data, dict):
            return data
        clones = {k: v for k, v in data.items() if isinstance(k, str) and "/" in k}
        rest = {k: v for k, v in data.items() if k not in clones}
        return {**rest, "clones": {**dict(rest.get("clones") or {}), **clones}}

    def clone(self, repo: str) -> Path | None:
        """The local clone of ``owner/name`` (case-insensitive, ``~`` expanded), if configured."""
        for name, path in self.clones.items():
            if name.lower() == repo.lower():
                return path.expanduser()
        return None


class UiSettings(Section):
    poll_interval_s: float = Field(0.5, ge=0)
    """How often the dashboard checks the journal for changes from any process (0: never)."""
    theme: str | None = None
    """Theme name; by default the last one chosen, else ``oncall-dark``."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Binding id → keys, e.g. ``approve = "y"`` or ``quit = "ctrl+q"``."""
    serve: bool = False
    """Run the receiver, pollers and exporter inside the dashboard (like ``--serve``)."""
    keep_resolved_s: float = Field(900, ge=0)
    """How long a resolved incident stays in the incidents pane, dimmed (0: it goes at once)."""

    @field_validator("keymap")
    @classmethod
    def _one_action_per_key(cls, value: dict[str, str]) -> dict[str, str]:
        """Two actions on one key would leave one of them unreachable, silently."""
        owner: dict[str, str] = {}
        clashes = []
        for action, keys in value.items():
            for key in (k.strip() for k in keys.split(",")):
                if key and owner.setdefault(key, action) != action:
                    clashes.append(f"{key!r} is bound to both {owner[key]!r} and {action!r}")
        if clashes:
            raise ValueError("; ".join(clashes))
        return value


AGENT_CLIENT_VARIABLES = frozenset({"server", "token"})
"""``ONCALL_TUI_SERVER`` and ``ONCALL_TUI_TOKEN`` are the remote agent's (the hook's and
``mcp --server``'s: which server, with which token), not settings of this process: the
``server`` section would otherwise read the URL as its whole value and every command fail."""


class Settings(BaseModel):
    """The effective configuration of one process: a plain model, built on first use, whose
    given values come over the environment's, as in a pydantic-settings class."""

    model_config = ConfigDict(extra="forbid", defer_build=True, validate_default=True)
    _environment_read: ClassVar[bool] = False  # True in pydantic-settings' subclass

    def __init__(self, **values: Any) -> None:
        super().__init__(**(values if self._environment_read else _with_environment(values)))

    db: Annotated[Path | str, BeforeValidator(db_location)] = Field(default_factory=default_db_path)
    server: ServerSettings = Field(default_factory=ServerSettings)
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    pollers: PollersSettings = Field(default_factory=PollersSettings)
    services: ServicesSettings = Field(default_factory=ServicesSettings)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    oncall: OncallSettings = Field(default_factory=OncallSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    discover: DiscoverSettings = Field(default_factory=DiscoverSettings)
    commits: CommitsSettings = Field(default_factory=CommitsSettings)
    repos: ReposSettings = Field(default_factory=ReposSettings)

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        unknown = sorted(set(value) - set(SOURCE_MODULES))
        if unknown:
            raise ValueError("; ".join(unknown_key(name, SOURCE_MODULES) for name in unknown))
        return value

    def source(self, name: str) -> SourceSettings:
        return self.sources.get(name) or SourceSettings()


class ConfigError(ValueError):
    """The configuration file or environment is invalid; the message says where and why."""


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (``--config``, ``ONCALL_TUI_CONFIG`` or the XDG default) and the env."""
    path = chosen_config_file(config_path)
    if config_path is not None and not path.exists():
        raise ConfigError(f"config file not found: {path}")

    toml_file = path if path.exists() else None
    _check_env_sections()
    label = str(path) if toml_file else "configuration"
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return _read_plainly(toml_file, given) or _settings_class(toml_file)(**given)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, label)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{label}: {exc}") from exc


def _environment_settings() -> list[str]:
    """The ``ONCALL_TUI_*`` variables pydantic-settings reads as settings (in any case)."""
    return [
        name
        for name in os.environ
        if name.upper().startswith(ENV_PREFIX)
        and (key := name[len(ENV_PREFIX) :].lower()) not in AGENT_CLIENT_VARIABLES
        and key.split("__", 1)[0] in Settings.model_fields
    ]


def _read_plainly(toml_file: Path | None, given: dict[str, Any]) -> Settings | None:
    """The file's settings under ``ONCALL_TUI_DB`` and ``given``, or None for pydantic-settings to
    read: other overrides, a table given, a problem (it words it), a spelling only it takes."""
    tables = any(isinstance(value, dict) for value in given.values())
    if tables or _environment_settings() not in ([], [f"{ENV_PREFIX}DB"]):
        return None
    try:
        data = tomllib.loads(toml_file.read_bytes().decode()) if toml_file else {}
        return Settings.model_validate({**data, **_with_environment({}), **given})
    except (ValidationError, ValueError):
        return None


def _with_environment(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` over the environment's settings, merged as pydantic-settings merges them."""
    environment = _environment_settings()
    if environment == [f"{ENV_PREFIX}DB"]:
        return {"db": os.environ[environment[0]], **values}
    return dict(_settings_class(None)(**values)) if environment else values


@functools.lru_cache(maxsize=8)
def _settings_class(toml_file: Path | None) -> type[Settings]:
    """Settings read by pydantic-settings from the environment and ``toml_file`` (at every load).
    A class-level setting there: a subclass per file keeps it out of global state."""
    import pydantic_settings as ps
    from pydantic_settings import PydanticBaseSettingsSource as Source

    class EnvironmentLessAgentClient(ps.EnvSettingsSource):
        def _load_env_vars(self) -> Mapping[str, str | None]:
            skipped = {f"{ENV_PREFIX}{name}".lower() for name in AGENT_CLIENT_VARIABLES}
            return {k: v for k, v in super()._load_env_vars().items() if k.lower() not in skipped}

    class FileSettings(ps.BaseSettings, Settings):
        model_config = ps.SettingsConfigDict(
            env_prefix=ENV_PREFIX, env_nested_delimiter="__", toml_file=toml_file
        )
        _environment_read: ClassVar[bool] = True

        @classmethod
        def settings_customise_sources(
            cls, settings_cls: type[ps.BaseSettings], init_settings: Source, *_: Any, **__: Any
        ) -> tuple[Source, ...]:
            environment = EnvironmentLessAgentClient(settings_cls)
            return init_settings, environment, ps.TomlConfigSettingsSource(settings_cls)

    return FileSettings


def unknown_key(key: object, known: Sequence[str] | set[str] | dict[str, Any]) -> str:
    """``unknown key 'secert' (did you mean 'secret'?)``, or the known keys when none is close."""
    names = sorted(known)
    close = difflib.get_close_matches(str(key), names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(names) or 'none'}"
    return f"unknown key {str(key)!r} ({hint})"


def describe_errors(exc: ValidationError, file_label: str = "configuration") -> str:
    """Every problem on one line, in our words, each where it was made: a value that came from
    an environment variable is named by the variable, one from the file by the file and key
    (``config.toml: server.port: expected an integer, got "abc"``).

    The value given is quoted only where seeing it helps (text where a number was expected),
    never for a secret: a numeric ``secret = 12345`` must not reach the terminal or a log.
    """
    in_file: list[str] = []
    from_env: list[str] = []
    set_in_env = {name.upper() for name in os.environ if name.upper().startswith(ENV_PREFIX)}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden" and loc:
            where, message = loc[:-1], unknown_key(loc[-1], _known_keys(loc[:-1]))
        else:
            where, message = loc, describe_problem(error, show_input=not _is_secret(loc))
        env_name = ENV_PREFIX + "__".join(map(str, loc)).upper()
        if env_name in set_in_env:
            from_env.append(f"{env_name}: {message}")
        else:
            in_file.append(f"{location(where)}: {message}" if where else message)
    problems = [f"{file_label}: {'; '.join(in_file)}"] if in_file else []
    return "; ".join(problems + from_env)


def _is_secret(loc: tuple[int | str, ...]) -> bool:
    """Whether the value at ``loc`` is a credential (a ``SecretStr`` field)."""
    shape: Any = Settings
    for part in loc:
        shape = _inner(shape, part)
    return shape is SecretStr


def _check_env_sections() -> None:
    """``ONCALL_TUI_SERVR__PORT`` names no section; the settings would silently ignore it.

    Only nested names are checked: flat ``ONCALL_TUI_*`` variables also serve the command line
    (``ONCALL_TUI_DB``, ``ONCALL_TUI_USER``...), outside the settings.
    """
    sections = set(Settings.model_fields)
    problems = [
        f"{name}: {unknown_key(head, sections)}"
        for name in sorted(os.environ)
        if name.upper().startswith(ENV_PREFIX) and "__" in name
        for head in [name[len(ENV_PREFIX) :].split("__", 1)[0].lower()]
        if head not in sections
    ]
    if problems:
        raise ConfigError("; ".join(problems))


def _known_keys(where: tuple[int | str, ...]) -> list[str]:
    """The keys the section at ``where`` accepts, found by walking the settings' annotations."""
    shape: Any = Settings
    for part in where:
        shape = _inner(shape, part)
    return list(shape.model_fields) if _is_model(shape) else []


def _inner(shape: Any, part: int | str) -> Any:
    """The type one step inside ``shape``: a model's field, a dict's value or a list's item;
    an optional section is its model (``PollerSettings | None`` → ``PollerSettings``)."""
    if _is_model(shape):
        field = shape.model_fields.get(str(part))
        inner = field.annotation if field is not None else None
    elif get_origin(shape) in (dict, list):
        inner = get_args(shape)[-1]
    else:
        return None
    if get_origin(inner) in (Union, types.UnionType):
        inner = next((arm for arm in get_args(inner) if arm is not type(None)), None)
    return inner


def _is_model(shape: Any) -> bool:
    return isinstance(shape, type) and issubclass(shape, BaseModel)
