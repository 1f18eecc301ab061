"""The vendors page: suppliers, their catalogues and contracts, editable by procurement (and the
owner) by pasting CSV lines — the same files, checks and audit as ``storeops vendors import``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from storeops.accounts import Principal, Role
from storeops.commands import vendors as commands_vendors
from storeops.desks.vendors import api as vendors_api
from storeops.desks.vendors.tables import supplier_items, suppliers, vendor_contracts
from storeops.errors import Forbidden, StoreopsError
from storeops.web.pages import _back, _reader, _render
from storeops.web.security import FormUser, PageUser, storeops_app

router = APIRouter(include_in_schema=False)
MAX_CSV = 1_000_000


def _may_edit(principal: Principal) -> bool:
    return principal.is_owner or principal.role is Role.PROCUREMENT


@router.get("/vendors", response_class=HTMLResponse)
def vendors_page(request: Request, principal: PageUser) -> HTMLResponse:
    """Suppliers with their catalogue lines, and contracts with their renewal day."""
    if not _may_edit(principal):
        raise Forbidden("only procurement and the owner see the suppliers")
    application = storeops_app(request)
    policy = vendors_api.vendors_policy(application.policy)
    with _reader(request) as conn:
        rows = conn.execute(select(suppliers).order_by(suppliers.c.supplier)).all()
        items = conn.execute(select(supplier_items).order_by(supplier_items.c.supplier, supplier_items.c.sku)).all()
        contracts = conn.execute(select(vendor_contracts).order_by(vendor_contracts.c.ends_on)).all()
    catalogue: dict[str, list[object]] = {}
    for item in items:
        catalogue.setdefault(item.supplier, []).append(item)
    return _render(
        request,
        "vendors.html",
        principal,
        suppliers=rows,
        catalogue=catalogue,
        contracts=[
            {"row": row, "due": vendors_api.renewal_due_on(row.ends_on, row.notice_days, policy)} for row in contracts
        ],
    )


@router.post("/vendors/import")
def vendors_import(
    request: Request,
    principal: FormUser,
    kind: Annotated[str, Form(max_length=16)],
    csv_text: Annotated[str, Form(max_length=MAX_CSV)],
) -> RedirectResponse:
    """Apply pasted suppliers.csv or contracts.csv lines: all of them, or none with the bad line named."""
    if not _may_edit(principal):
        raise Forbidden("only procurement and the owner edit the suppliers")
    application = storeops_app(request)
    policy = vendors_api.vendors_policy(application.policy)
    try:
        if kind == "contracts":
            done = commands_vendors.import_contracts(application.engine, principal, csv_text, policy, source="web")
            message = f"{len(done)} contracts saved."
        else:
            counts = commands_vendors.import_suppliers(
                application.engine, principal, csv_text, source="web", policy=policy
            )
            message = f"{counts['suppliers']} suppliers and {counts['catalogue_lines']} catalogue lines saved."
    except Forbidden:
        raise
    except StoreopsError as exc:
        return _back(f"/vendors#{kind}", err=exc.message, field=exc.field)
    return _back(f"/vendors#{kind}", msg=message)
