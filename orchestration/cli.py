"""`avc2sage`: the command line every person and every schedule starts from."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
import duckdb

from pipelines.settings import BusinessConfig, Locations, SettingsError, load_business_config

if TYPE_CHECKING:
    from pipelines.remittances.batch import RemittanceSummary
    from pipelines.scenario.load import LoadSummary
    from pipelines.scenario.warehouse import WarehouseActivity

log = logging.getLogger("avc2sage")

SANDBOX_TOKEN_ENV = "AVC2SAGE_SAGE_TOKEN"


def london_today() -> date:
    """The sample's default business date: today in the company's timezone."""
    return datetime.now(ZoneInfo("Europe/London")).date()


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"'{value}' is not a date such as 2026-03-15") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--warehouse", type=click.Path(path_type=Path), help="DuckDB warehouse file [AVC2SAGE_WAREHOUSE].")
@click.option("--sage-url", help="Sage 200 API base URL [AVC2SAGE_SAGE_URL].")
@click.option("--inbox", type=click.Path(path_type=Path), help="Folder of inbound Amazon files [AVC2SAGE_INBOX].")
@click.option("--outbox", type=click.Path(path_type=Path), help="Folder for outbound documents [AVC2SAGE_OUTBOX].")
@click.option("--config", type=click.Path(path_type=Path), help="Business configuration file [AVC2SAGE_CONFIG].")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def main(
    ctx: click.Context,
    warehouse: Path | None,
    sage_url: str | None,
    inbox: Path | None,
    outbox: Path | None,
    config: Path | None,
    verbose: bool,
) -> None:
    """Amazon Vendor Central ↔ Sage 200: order to cash and remittance reconciliation."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        ctx.obj = Locations.resolve(warehouse=warehouse, inbox=inbox, outbox=outbox, sage_url=sage_url, config=config)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


@main.command("check-config")
@click.pass_obj
def check_config(locations: Locations) -> None:
    """Validate the business configuration file and show where every location points."""
    config = business_config(locations)
    for name, value in locations.export().items():
        click.echo(f"{name}={value}")
    codes = ", ".join(f"{v.code} → {v.sage_customer_account}" for v in config.vendor_codes)
    click.echo(f"{config.company.name}: vendor codes {codes}; clearing bank {config.banks.clearing}")


@main.command("sage-sandbox")
@click.option("--port", type=int, default=8200, show_default=True, help="Local port to listen on.")
@click.option("--db", type=click.Path(path_type=Path), required=True, help="Sandbox database file.")
@click.option("--token", envvar=SANDBOX_TOKEN_ENV, default="sandbox", show_default=True, help="Bearer token to accept.")
def sage_sandbox(port: int, db: Path, token: str) -> None:
    """Run the Sage 200 sandbox (Sage's API plus a back office) until interrupted."""
    from pipelines.sage200.sandbox.server import API_PREFIX, serve

    db.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"Sage 200 sandbox: http://127.0.0.1:{port}{API_PREFIX}/  back office: /backoffice/  db: {db}")
    serve(db, port, token=token)


@main.group()
def scenario() -> None:
    """The deterministic sample vendor: generate it, load it into Sage."""


@scenario.command("generate")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--as-of", "as_of", callback=parse_date, help="Business date the sample ends on [default: today].")
@click.option("--scale", type=click.Choice(["small", "large"]), default="small", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to write the sample into.")
def scenario_generate(seed: int, as_of: date | None, scale: str, out: Path) -> None:
    """Write the sample vendor's files (same seed and as-of date give the same bytes)."""
    from pipelines.scenario.generate import generate

    manifest = generate(seed=seed, as_of=as_of or london_today(), scale=scale, out=out)
    click.echo(
        f"Wrote the {scale} sample (seed {seed}, as of {manifest.as_of}) to {out}: {describe_counts(manifest.counts)}"
    )


@scenario.command("load")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--sage-url", help="Sage 200 sandbox API base URL [default: the global --sage-url].")
@click.option("--token", envvar=SANDBOX_TOKEN_ENV, default="sandbox", show_default=True)
@click.pass_obj
def scenario_load(locations: Locations, directory: Path, sage_url: str | None, token: str) -> None:
    """Load a generated sample into a Sage 200 sandbox through its API (and back office)."""
    summary = load_into_sandbox(directory, sage_url or locations.sage_url, token)
    click.echo(f"Loaded {directory}: {describe_counts(summary.created)}")


@scenario.command("warehouse")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--sage-url", help="Sage 200 sandbox API base URL [default: the global --sage-url].")
@click.option("--day", callback=parse_date, help="The day the warehouse works [default: the sample's as-of date].")
@click.option("--token", envvar=SANDBOX_TOKEN_ENV, default="sandbox", show_default=True)
@click.pass_obj
def scenario_warehouse(
    locations: Locations, directory: Path, sage_url: str | None, day: date | None, token: str
) -> None:
    """Play the warehouse after `avc2sage run`: despatch and invoice the sample's planted POs in the sandbox,
    six despatches and four invoices with one planted mistake each (written to DIRECTORY/warehouse.json)."""
    activity = play_sample_warehouse(directory, sage_url or locations.sage_url, token, day)
    for line in describe_activity(activity):
        click.echo(line)


def play_sample_warehouse(directory: Path, sage_url: str, token: str, day: date | None) -> WarehouseActivity:
    from pipelines.sage200.client import SageClient
    from pipelines.sage200.sandbox.backoffice import BackOffice
    from pipelines.scenario.manifest import Manifest
    from pipelines.scenario.warehouse import play_warehouse

    root = sandbox_root(sage_url)
    day = day or Manifest.read(directory / "manifest.json").as_of
    with SageClient(sage_url, token).connect() as client, BackOffice(root) as office:
        return play_warehouse(directory, client, office, day=day)


def describe_activity(activity: WarehouseActivity) -> list[str]:
    lines = [
        f"despatched PO {d.po_number} as {d.despatch_number}"
        + (f" (planted: {d.expected_rule})" if d.expected_rule else "")
        for d in activity.despatches
    ]
    lines += [
        f"invoiced PO {i.po_number} as {i.invoice_number}"
        + (f" (planted: {i.expected_rule})" if i.expected_rule else "")
        for i in activity.invoices
    ]
    return lines


def sandbox_root(sage_url: str) -> str:
    """The sandbox's root URL (its back office lives there) from its API URL."""
    from pipelines.sage200.sandbox.server import API_PREFIX

    if API_PREFIX not in sage_url:
        raise click.UsageError(f"{sage_url} is not a sandbox URL: only the sandbox has a back office to play.")
    return sage_url.split(API_PREFIX)[0] + "/"


def describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in sorted(counts.items()))


def load_into_sandbox(directory: Path, sage_url: str, token: str) -> LoadSummary:
    from pipelines.sage200.client import SageClient
    from pipelines.sage200.sandbox.backoffice import BackOffice
    from pipelines.scenario.load import load

    root = sandbox_root(sage_url)
    with SageClient(sage_url, token, timeout=120).connect() as client, BackOffice(root, timeout=120) as office:
        return load(directory, client, office)


@main.command("sage-summary")
@click.option("--token", envvar=SANDBOX_TOKEN_ENV, default="sandbox", show_default=True)
@click.pass_obj
def sage_summary(locations: Locations, token: str) -> None:
    """Print customers, open invoices, bank balances and trial balance totals from Sage."""
    from pipelines.sage200.client import SageClient
    from pipelines.sage200.summary import format_summary, read_summary

    with SageClient(locations.sage_url, token).connect() as client:
        click.echo(format_summary(read_summary(client)))


@main.command("run")
@click.option("--trigger", type=click.Choice(["cli", "schedule", "sensor", "manual"]), default="cli", hidden=True)
@click.pass_obj
def run(locations: Locations, trigger: str) -> None:
    """One full pass: configuration, the Amazon inbox and Sage 200 into the warehouse, dbt build, Sage orders
    and acknowledgements for new POs, publish the read snapshot."""
    from pipelines.passes import StageFailed, full_pass
    from pipelines.sage200.auth import tokens_from_environment

    config = business_config(locations)
    try:
        summary = full_pass(locations, config, tokens_from_environment(), trigger=trigger, progress=click.echo)
    except StageFailed as exc:
        raise click.ClickException(f"{exc} (the rest of the pass ran; see marts.exceptions)") from exc
    click.echo(f"\nRun {summary.run_id} succeeded.")
    echo_rows_and_snapshot(summary.rows_per_table, summary.snapshot, "avc2sage")


@main.command("ingest")
@click.pass_obj
def ingest(locations: Locations) -> None:
    """Load the Amazon inbox (and Sage 200) once, printing one line per inbound file."""
    from pipelines.passes import PassSummary, load_stages
    from pipelines.sage200.auth import tokens_from_environment

    config = business_config(locations)
    locations.warehouse.parent.mkdir(parents=True, exist_ok=True)
    summary = PassSummary(run_id="", snapshot=locations.warehouse)
    sage_error = load_stages(locations, config, tokens_from_environment(), "cli", summary, click.echo)
    acknowledgements = summary.inbound.acknowledgements if summary.inbound else []
    click.echo(f"{len(acknowledgements)} acknowledgements written to {locations.outbox}")
    if sage_error is not None:
        raise click.ClickException(f"the Sage 200 load failed: {sage_error}")


@main.command("post-remittances")
@click.option("--dry-run", is_flag=True, help="Print each payment's status and exact plan; post nothing.")
@click.pass_obj
def post_remittances(locations: Locations, dry_run: bool) -> None:
    """Post Amazon's payments to Sage (credit notes, receipt, allocation, bank payment and receipt, transfer) as
    far as approval allows, then check the clearing bank; with --dry-run print every plan and post nothing."""
    config = business_config(locations)
    if dry_run:
        for line in dry_run_lines(locations, config):
            click.echo(line)
        return
    from pipelines.passes import RemittancePostingFailed
    from pipelines.passes import post_remittances as post
    from pipelines.sage200.auth import tokens_from_environment

    try:
        post(locations, config, tokens_from_environment(), progress=click.echo)
    except RemittancePostingFailed as exc:
        raise click.ClickException(str(exc)) from exc


def dry_run_lines(locations: Locations, config: BusinessConfig) -> list[str]:
    from pipelines.remittances.batch import planned_payments

    try:
        planned = planned_payments(locations.warehouse, config.banks.clearing)
    except duckdb.Error as exc:
        raise click.ClickException(
            f"cannot read the remittance plans in {locations.warehouse} ({exc}): run `avc2sage run` first"
        ) from exc
    lines = []
    for payment in planned:
        lines += [*payment.lines(), ""]
    statuses = Counter(payment.status.replace("_", " ") for payment in planned)
    counted = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())) or "none"
    lines.append(f"{len(planned)} payment(s): {counted}. Dry run: nothing was posted.")
    return lines


@main.command("approve")
@click.argument("payment")
@click.option("--by", "by", required=True, help="Who approves; recorded in the audit trail.")
@click.option("--note", help="What was checked, or why it is approved.")
@click.pass_obj
def approve(locations: Locations, payment: str, by: str, note: str | None) -> None:
    """Approve an Amazon payment's posting plan, as `post-remittances --dry-run` prints it, so that
    `post-remittances` (or the next run) posts it to Sage."""
    from pipelines.remittances.approval import ApprovalRefused
    from pipelines.remittances.approval import approve as approve_payment

    try:
        approval = approve_payment(locations.warehouse, payment, by, note)
    except ApprovalRefused as exc:
        raise click.ClickException(str(exc)) from exc
    except duckdb.Error as exc:
        raise click.ClickException(f"cannot read the payments in {locations.warehouse} ({exc})") from exc
    click.echo(
        f"Approved payment {payment} (plan {approval.plan_sha256[:12]}) by {approval.approved_by}:"
        " `avc2sage post-remittances` or the next run posts it."
    )


def period_option(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from pipelines.close.month_end import check_period

    try:
        return check_period(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@main.command("close")
@click.option("--period", required=True, callback=period_option, help="The month to close, YYYY-MM.")
@click.option("--by", "by", required=True, help="Who closes; recorded in the audit trail and the report.")
@click.option("--note", help="Why, or what was agreed (a re-close especially).")
@click.pass_obj
def close(locations: Locations, period: str, by: str, note: str | None) -> None:
    """Month-end close: run the whole flow, read Sage again, require the integrity checks green, write the
    close pack (marts as Parquet and CSV, report.html, manifest.json) and record it as the period's next
    version. A failed check records the attempt as blocked and exits 1."""
    from pipelines.close.month_end import CloseBlocked, close_period
    from pipelines.sage200.auth import tokens_from_environment

    try:
        outcome = close_period(
            locations, business_config(locations), tokens_from_environment(), period, by, note=note, progress=click.echo
        )
    except (CloseBlocked, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Report: {outcome.pack / 'report.html'}")


@main.command("verify-close")
@click.option("--period", required=True, callback=period_option, help="The month closed, YYYY-MM.")
@click.option("--version", "version", type=int, help="One version only (default: every version of the period).")
@click.pass_obj
def verify_close(locations: Locations, period: str, version: int | None) -> None:
    """Recompute every file's SHA-256 in a period's close packs against their manifests, and each manifest's
    against audit.month_end_runs. Exits 1 naming each mismatch."""
    from pipelines.close.month_end import verify_close as verify
    from pipelines.warehouse.snapshot import snapshot_path

    try:
        packs = verify(snapshot_path(locations.warehouse), period, version)
    except (LookupError, duckdb.Error) as exc:
        raise click.ClickException(str(exc)) from exc
    for pack in packs:
        verdict = "OK" if not pack.problems else "MISMATCH"
        click.echo(f"{pack.period} v{pack.version} {verdict}: {pack.pack} (manifest {pack.manifest_sha256})")
        for problem in pack.problems:
            click.echo(f"  {problem}")
    if any(pack.problems for pack in packs):
        raise click.ClickException("a close pack does not match what was recorded")


@main.command("sql")
@click.option("-c", "--command", "query", help="Run this SQL and print the result, instead of a shell.")
@click.pass_obj
def sql(locations: Locations, query: str | None) -> None:
    """SQL on the published read snapshot (never blocks a run); interactive without -c."""
    from pipelines.warehouse.shell import format_table, interactive_shell, run_query
    from pipelines.warehouse.snapshot import SnapshotMissing, snapshot_path

    snapshot = snapshot_path(locations.warehouse)
    try:
        if query is None:
            interactive_shell(snapshot)
            return
        columns, rows = run_query(snapshot, query)
    except SnapshotMissing as exc:
        raise click.ClickException(str(exc)) from exc
    except duckdb.Error as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(format_table(columns, rows))


@main.command("dashboard")
@click.option("--port", type=int, default=8501, show_default=True, help="Local port the dashboard listens on.")
@click.pass_obj
def dashboard(locations: Locations, port: int) -> None:
    """Start the Streamlit dashboard on the published read snapshot (it never opens the warehouse itself)."""
    app = Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py"
    streamlit = Path(sys.executable).with_name("streamlit")
    click.echo(f"avc2sage dashboard on http://localhost:{port} (snapshot of {locations.warehouse})")
    arguments = [str(app), "--server.port", str(port), "--server.headless", "true"]
    # Replaces this process: Streamlit's own signals and exit code reach the person or the service manager.
    os.execve(
        streamlit,
        [str(streamlit), "run", *arguments, "--browser.gatherUsageStats", "false"],
        {**os.environ, **locations.export()},
    )


def health_summary(snapshot: Path) -> list[str]:
    """One line per flow of marts.sync_health: its status and why."""
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute(
            "select flow_title, status, freshness, backlog, open_exceptions, status_reason from marts.sync_health"
            " order by case status when 'red' then 0 when 'amber' then 1 else 2 end, flow"
        ).fetchall()
    return [
        f"{status.upper():<6}{title}: {freshness}, {backlog if backlog is not None else 'no'} waiting, "
        f"{exceptions} open exception(s){f' ({reason})' if reason else ''}"
        for title, status, freshness, backlog, exceptions, reason in rows
    ]


@main.command("sage-login")
@click.option("--client-id", envvar="AVC2SAGE_SAGE_CLIENT_ID", required=True, help="Sage Developer app client id.")
@click.option("--client-secret", envvar="AVC2SAGE_SAGE_CLIENT_SECRET", required=True, help="App client secret.")
@click.option("--port", type=int, default=8400, show_default=True, help="Local port for Sage ID's redirect.")
@click.option("--token-file", envvar="AVC2SAGE_SAGE_TOKEN_FILE", default=".sage_token.json", show_default=True)
@click.option("--authorize-url", default=None, hidden=True, help="Sage ID authorize URL (tests use the sandbox's).")
@click.option("--token-url", envvar="AVC2SAGE_SAGE_TOKEN_URL", default=None, hidden=True)
def sage_login(
    client_id: str, client_secret: str, port: int, token_file: str, authorize_url: str | None, token_url: str | None
) -> None:
    """Connect to a real Sage 200 tenant once: sign in with Sage ID in a browser; tokens are kept locally."""
    from pipelines.sage200 import auth

    app = auth.OAuthApp(
        client_id,
        client_secret,
        token_url=token_url or auth.SAGE_ID_TOKEN_URL,
        authorize_url=authorize_url or auth.SAGE_ID_AUTHORIZE_URL,
    )
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    state = auth.new_state()
    click.echo(
        f"Open this address in a browser and sign in to Sage:\n\n  {auth.authorize_url(app, redirect_uri, state)}\n"
    )
    click.echo(f"Waiting for Sage ID to redirect to {redirect_uri} ...")
    try:
        code = auth.receive_authorization_code(port, state)
        auth.RotatingTokens(app, Path(token_file)).exchange_code(code, redirect_uri)
    except auth.AuthError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Connected. Tokens saved to {token_file} (keep it out of version control).")


def indented_echo(line: str) -> None:
    click.echo(f"   {line}")


def echo_rows_and_snapshot(rows_per_table: dict[str, int], snapshot: Path, command: str) -> None:
    click.echo("Rows per table:")
    for table, count in sorted(rows_per_table.items()):
        if not table.split(".")[1].startswith("_dlt"):
            click.echo(f"  {table:<60}{count:>10,}")
    click.echo(f"\nRead snapshot: {snapshot}")
    click.echo(f'Try: {command} sql -c "select kind, status, message from marts.exceptions"')


def business_config(locations: Locations) -> BusinessConfig:
    try:
        return load_business_config(locations.config)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("bench")
@click.option("--scale", type=click.Choice(["small", "large"]), default="large", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("bench/results.json"), show_default=True)
@click.option("--cache", type=click.Path(path_type=Path), default=Path("data/generated/bench"), show_default=True)
@click.option(
    "--part",
    type=click.Choice(["all", "sage", "edi", "orders", "documents", "remittances", "dashboard"]),
    default="all",
    show_default=True,
)
def bench(scale: str, out: Path, cache: Path, part: str) -> None:
    """Time and peak memory per stage on a year of a large vendor, beside a floor measured in the same run."""
    from pipelines.bench import format_results, run_bench, write_results
    from pipelines.bench_documents import run_documents_bench
    from pipelines.bench_edi import run_edi_bench
    from pipelines.bench_orders import run_orders_bench
    from pipelines.bench_remittances import run_remittances_bench

    results = []
    if part in {"all", "sage"}:
        click.echo(f"Sage stages: preparing the {scale} sample in a sandbox (cached in {cache}) and measuring ...")
        results += run_bench(cache, scale)
    if part in {"all", "edi"}:
        click.echo("Amazon EDI stages: a synthetic inbox of 2,000 X12 and 2,000 EDIFACT purchase orders ...")
        with tempfile.TemporaryDirectory() as work:
            results += run_edi_bench(Path(work))
    if part in {"all", "orders"}:
        click.echo("Order-to-cash stages: a year of Amazon POs (6,600 POs, ~257,000 lines), 2,000 Sage products ...")
        with tempfile.TemporaryDirectory() as work:
            results += run_orders_bench(Path(work))
    if part in {"all", "documents"}:
        click.echo("Document stages: a month of ship notices and invoices (550 despatches, ~21,000 lines) ...")
        with tempfile.TemporaryDirectory() as work:
            results += run_documents_bench(Path(work))
    if part in {"all", "remittances"}:
        click.echo("Remittance stages: a year of payments (~103,000 lines) against 80,000 Sage invoices ...")
        with tempfile.TemporaryDirectory() as work:
            results += run_remittances_bench(Path(work))
    if part in {"all", "dashboard"}:
        from pipelines.bench_dashboard import format_dashboard_results, run_dashboard_bench

        click.echo("Dashboard stages: every page on both years (POs and payments) with a year of audit history ...")
        with tempfile.TemporaryDirectory() as work:
            dashboard_results = run_dashboard_bench(Path(work))
        results += dashboard_results
        click.echo(format_dashboard_results(dashboard_results))
    write_results(out, scale, results)
    click.echo(format_results(results))
    click.echo(f"\nWritten to {out}")


@main.command("demo")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--as-of", "as_of", callback=parse_date, help="Business date of the sample [default: today].")
@click.option(
    "--folder",
    type=click.Path(path_type=Path),
    default=Path("data/demo"),
    show_default=True,
    help="Where the demo keeps its sample, sandbox database and warehouse (emptied first).",
)
def demo(seed: int, as_of: date | None, folder: Path) -> None:
    """Generate the sample vendor, load it into a Sage 200 sandbox, run the full pass, show the results."""
    from pipelines.passes import count_rows, full_pass
    from pipelines.sage200.client import SageClient
    from pipelines.sage200.sandbox.server import api_url, run_in_thread
    from pipelines.sage200.summary import format_summary, read_summary
    from pipelines.scenario.generate import generate

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    as_of = as_of or london_today()
    manifest = generate(seed=seed, as_of=as_of, scale="small", out=folder / "sample")
    click.echo(f"1. Generated the sample vendor (seed {seed}, as of {as_of}) in {folder / 'sample'}")
    with run_in_thread(folder / "sage-sandbox.sqlite3") as root:
        sage_url = api_url(root)
        click.echo(f"2. Started the Sage 200 sandbox at {sage_url}")
        loaded = load_into_sandbox(folder / "sample", sage_url, "sandbox")
        click.echo(f"3. Loaded it through the Sage API: {describe_counts(loaded.created)}")
        with SageClient(sage_url, "sandbox").connect() as client:
            summary = read_summary(client)
        click.echo("4. What Sage now holds, read back through the API:\n")
        click.echo(format_summary(summary))
        click.echo("\n5. The full pass: configuration, Amazon's inbox and Sage into the warehouse, dbt, snapshot")
        locations = Locations.resolve(
            warehouse=str(folder / "avc2sage.duckdb"),
            sage_url=sage_url,
            inbox=str(folder / "inbox"),
            outbox=str(folder / "outbox"),
        )
        # Amazon's files as they would arrive; the sample keeps its own copy.
        shutil.copytree(folder / "sample" / "inbox", locations.inbox)
        config = business_config(locations)
        result = full_pass(locations, config, "sandbox", progress=lambda line: click.echo(f"   {line}"))
        if result.orders is not None:
            click.echo("\n6. Orders and acknowledgements:")
            for line in result.orders.lines():
                click.echo(f"   {line}")
        people_needed = pos_needing_a_person(result.snapshot)
        click.echo(f"   POs that need a person: {len(people_needed)}")
        for po, problems in people_needed:
            click.echo(f"   PO {po}: {problems}")
        click.echo("\n7. The warehouse despatches and invoices the planted POs in Sage (the sandbox's back office):")
        activity = play_sample_warehouse(folder / "sample", sage_url, "sandbox", as_of)
        for line in describe_activity(activity):
            click.echo(f"   {line}")
        click.echo("\n8. The next pass: ship notices, carton labels and invoices for what Sage confirmed")
        result = full_pass(locations, config, "sandbox", progress=lambda line: click.echo(f"   {line}"))
        for line in documents_summary(result.snapshot):
            click.echo(f"   {line}")
        click.echo(f"   Documents for Amazon in {locations.outbox}; carton labels (PDF) in {folder / 'labels'}")
        click.echo(
            "\n9. Amazon's payments: each one waiting is approved by the demo, then posted through the clearing bank"
        )
        remittances = approve_and_post_remittances(locations, config)
        result.rows_per_table = count_rows(locations.warehouse)  # the tables as posting left them
    click.echo("\n   The reconciliation:")
    for line in remittances.lines():
        click.echo(f"   {line}")
    for line in remittance_statuses(result.snapshot):
        click.echo(f"   {line}")
    click.echo(f"\n10. Stopped the sandbox. Planted anomalies in the manifest: {len(manifest.anomalies)}")
    for anomaly in manifest.anomalies:
        click.echo(f"   {anomaly.kind}: {anomaly.document_reference}")
    click.echo("")
    click.echo("Rows per table:")
    for table, count in sorted(result.rows_per_table.items()):
        if not table.split(".")[1].startswith("_dlt"):
            click.echo(f"  {table:<60}{count:>10,}")
    click.echo(f"\nRead snapshot: {result.snapshot}")
    click.echo(
        f'Try: avc2sage --warehouse {locations.warehouse} sql -c "select kind, status, message from marts.exceptions"'
    )
    click.echo("\nHealth of each flow (marts.sync_health):")
    for line in health_summary(result.snapshot):
        click.echo(f"  {line}")
    click.echo(
        f"\nThe dashboard: avc2sage --warehouse {locations.warehouse} dashboard   (then open http://localhost:8501)"
    )
    if not summary.trial_balance_agrees:
        sys.exit(1)


def approve_and_post_remittances(locations: Locations, config: BusinessConfig) -> RemittanceSummary:
    """The demo's finance person: approve every payment waiting for a person, then post."""
    from pipelines.passes import post_remittances as post
    from pipelines.remittances.approval import approve as approve_payment
    from pipelines.remittances.batch import AWAITING_APPROVAL, planned_payments

    for planned in planned_payments(locations.warehouse, config.banks.clearing):
        if planned.status == AWAITING_APPROVAL:
            number = planned.payment.payment_number
            approve_payment(locations.warehouse, number, "demo", note="approved by avc2sage demo")
            click.echo(f"   avc2sage approve {number} --by demo   ({planned.why})")
    return post(locations, config, "sandbox")  # what it did is printed as the reconciliation


def remittance_statuses(snapshot: Path) -> list[str]:
    """One line per Amazon payment: where its posting stands, as the marts say after the run."""
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute(
            """
            select payment_number, payment_date, net_paid, currency, posting_status, exceptions_count
            from marts.remittance_payments
            order by payment_date, payment_number
            """
        ).fetchall()
    return [
        f"payment {number} of {day}: net {net:,.2f} {currency}, {status.replace('_', ' ')}, {exceptions} exception(s)"
        for number, day, net, currency, status, exceptions in rows
    ]


def documents_summary(snapshot: Path) -> list[str]:
    """One line per ship notice and invoice: sent, or held with the rules it broke; and where the labels are."""
    import duckdb

    with duckdb.connect(str(snapshot), read_only=True) as con:
        shipments = con.execute(
            """
            select shipments.purchase_order_number, shipments.shipment_id, shipments.transmission_status,
                shipments.file_name, string_agg(failures.rule, ', ' order by failures.rule)
            from marts.shipments as shipments
            left join marts.asn_validation_failures as failures using (despatch_id)
            group by all
            order by 1, 2
            """
        ).fetchall()
        invoices = con.execute(
            """
            select invoices.purchase_order_number, invoices.invoice_number, invoices.transmission_status,
                invoices.file_name, string_agg(failures.rule, ', ' order by failures.rule)
            from marts.invoices as invoices
            left join marts.invoice_validation_failures as failures using (sage_invoice_id)
            group by all
            order by 1, 2
            """
        ).fetchall()
    lines = []
    for kind, rows in (("ship notice", shipments), ("invoice", invoices)):
        for po, number, status, file_name, rules in rows:
            outcome = f"HELD by {rules}" if rules else f"{status} as {file_name}"
            lines.append(f"PO {po} {kind} {number}: {outcome}")
    return lines


def pos_needing_a_person(snapshot: Path) -> list[tuple[str, str]]:
    """Each PO with open exceptions, and what they are (line references keep their line number)."""
    import duckdb

    with duckdb.connect(str(snapshot), read_only=True) as con:
        return con.execute(
            """
            select split_part(document_reference, '#', 1) as po_number,
                string_agg(kind || coalesce(' line ' || nullif(split_part(document_reference, '#', 2), ''), ''),
                    ', ' order by document_reference, kind)
            from marts.exceptions
            where status = 'open' and document_type in ('purchase_order', 'purchase_order_line')
            group by 1
            order by 1
            """
        ).fetchall()


if __name__ == "__main__":
    main()
