"""Demo data: technicians, French customers, labour and parts products, N Done orders ready to invoice, and a
few scheduled / in-progress ones for the board and for the demo technician "tech".

Bulk inserts (core.bulk: COPY on PostgreSQL) and one ``sequences.take(count=N)`` keep 100,000 orders
well under a minute.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select

from core import sequences
from core.bulk import insert_returning_ids, insert_rows
from core.extensions import db
from core.models import Partner, User, utcnow
from core.security import create_user

from addons.invoicing.models import Product, Tax

from .models import Part, ServiceOrder, TimeEntry
from .services import PREFIX, SEQUENCE

PASSWORD = "kontor-demo"
TECHNICIANS = [("tech1", "Julien Moreau"), ("tech2", "Sophie Lambert"), ("tech3", "Karim Benali"),
               ("tech4", "Élodie Fournier")]
FIRST = ["Boulangerie", "Pharmacie", "Hôtel", "Restaurant", "Cabinet", "Garage", "Fromagerie", "Librairie",
         "Clinique", "Brasserie", "Atelier", "Maison"]
LAST = ["Dupont", "Martin", "Bernard", "Lefèvre", "Girard", "Rousseau", "Fontaine", "Chevalier", "Mercier",
        "Blanc", "Garnier", "Faure", "Moulin", "Perrin", "Lemoine", "Renaud"]
PLACES = [("75011", "Paris"), ("69003", "Lyon"), ("13006", "Marseille"), ("33000", "Bordeaux"),
          ("31000", "Toulouse"), ("44000", "Nantes"), ("67000", "Strasbourg"), ("59800", "Lille"),
          ("35000", "Rennes"), ("06000", "Nice")]
STREETS = ["rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "rue Pasteur",
           "place du Marché", "rue des Lilas", "avenue de la Gare", "rue Nationale"]
LABOUR = [("LAB-STD", "Labour, standard rate", "65.00"), ("LAB-URG", "Labour, urgent call-out", "95.00")]
PARTS = [("PRT-VALVE", "Thermostatic valve", "38.50"), ("PRT-PUMP", "Circulation pump", "214.00"),
         ("PRT-FILTER", "Water filter cartridge", "12.90"), ("PRT-SEAL", "Seal kit", "6.40"),
         ("PRT-SENSOR", "Temperature sensor", "27.00"), ("PRT-FAN", "Condenser fan motor", "129.00")]
JOBS = ["Boiler service", "No hot water", "Radiator leaking", "Air conditioning not cooling", "Annual maintenance",
        "Replace circulation pump", "Noisy heat pump", "Water heater check"]
NOTES = ["Diagnosis and repair", "Replaced worn part, tested OK", "Cleaned and adjusted", "Pressure test",
         "Customer briefed on use"]


def _users() -> dict[str, int]:
    ids = {}
    for login, name in TECHNICIANS:
        user_id = db.session.scalar(select(User.id).where(User.login == login))
        if user_id is None:
            user_id = create_user(login, "technician", PASSWORD, name=name).id
        ids[login] = user_id
    tech = db.session.scalar(select(User.id).where(User.login == "tech"))
    if tech is not None:
        ids["tech"] = tech
    return ids


def _products() -> tuple[list[Product], list[Product]]:
    vat = db.session.scalar(select(Tax).where(Tax.rate == 20).order_by(Tax.id).limit(1))
    made = {p.code: p for p in db.session.scalars(select(Product).where(
        Product.code.in_([c for c, _, _ in LABOUR + PARTS])))}
    for kind, rows, unit in (("labour", LABOUR, "h"), ("part", PARTS, "unit")):
        for code, name, price in rows:
            if code not in made:
                made[code] = Product(code=code, name=name, type=kind, unit=unit, unit_price=Decimal(price),
                                     tax_id=vat.id if vat else None)
                db.session.add(made[code])
    db.session.flush()
    return [made[c] for c, _, _ in LABOUR], [made[c] for c, _, _ in PARTS]


def _customers(rng: random.Random, count: int) -> list[Partner]:
    existing = db.session.scalar(select(func.count()).select_from(Partner)) or 0
    rows = []
    for i in range(max(0, count - existing)):
        zip_, city = rng.choice(PLACES)
        rows.append({"name": f"{rng.choice(FIRST)} {rng.choice(LAST)}" + (f" {i // 190 + 1}" if i >= 190 else ""),
                     "email": f"contact{existing + i + 1}@example.fr", "street": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                     "zip": zip_, "city": city, "country": "FR", "vat_id": "", "created_at": utcnow()})
    if rows:
        db.session.execute(insert(Partner), rows)
    return list(db.session.scalars(select(Partner).order_by(Partner.id).limit(max(count, 1))))


def load(orders: int = 20, progress=None) -> None:
    rng = random.Random(2026)
    users = _users()
    labour, parts = _products()
    customers = _customers(rng, min(200, max(10, orders // 20)))
    techs = [users[login] for login, _ in TECHNICIANS]
    now = utcnow()
    today = date.today()
    extra = 12  # scheduled / in progress for the board and "tech"
    first = sequences.take(SEQUENCE, now.date(), count=orders + extra)
    number = first
    batch = 2000
    done_left = orders
    while done_left > 0:
        size = min(batch, done_left)
        order_rows = []
        for _ in range(size):
            customer = rng.choice(customers)
            day = today - timedelta(days=rng.randint(1, 60))
            order_rows.append({
                "number": sequences.format_number(PREFIX, now.year, number), "partner_id": customer.id,
                "description": rng.choice(JOBS), "site_address": f"{customer.street}, {customer.zip} {customer.city}",
                "technician_id": rng.choice(techs), "state": "done", "report": rng.choice(NOTES) + ".",
                "scheduled_at": datetime.combine(day, time(rng.choice([8, 10, 14, 16])), tzinfo=timezone.utc),
                "created_at": now, "done_at": now, "invoice_id": None})
            number += 1
        ids = insert_returning_ids(ServiceOrder.__table__, order_rows)
        entries, used = [], []
        for order_id, row in zip(ids, order_rows):
            for _ in range(2):
                entries.append({"order_id": order_id, "technician_id": row["technician_id"],
                                "product_id": rng.choice(labour).id, "date": row["scheduled_at"].date(),
                                "hours": Decimal(rng.choice(["0.5", "1", "1.5", "2", "2.5", "3"])),
                                "description": rng.choice(NOTES), "invoiced_qty": Decimal(0)})
                product = rng.choice(parts)
                used.append({"order_id": order_id, "product_id": product.id,
                             "quantity": Decimal(rng.choice([1, 1, 2, 3])), "unit_price": product.unit_price,
                             "description": "", "invoiced_qty": Decimal(0)})
        insert_rows(TimeEntry.__table__, entries)
        insert_rows(Part.__table__, used)
        done_left -= size
        if progress:
            progress(size)
    _upcoming(rng, customers, users, number, now, today)


def _upcoming(rng, customers, users, number, now, today) -> None:
    """A few scheduled and in-progress orders this week (for the board), three of them today for "tech"."""
    who = [users.get("tech") or users["tech1"]] * 4 + [users[login] for login, _ in TECHNICIANS] * 2
    rows = []
    for i, technician in enumerate(who):
        customer = rng.choice(customers)
        day = today if i < 3 else today + timedelta(days=rng.randint(0, 6))
        rows.append({
            "number": sequences.format_number(PREFIX, now.year, number + i), "partner_id": customer.id,
            "description": rng.choice(JOBS), "site_address": f"{customer.street}, {customer.zip} {customer.city}",
            "technician_id": technician, "state": "in_progress" if i in (0, 5) else "scheduled", "report": "",
            "scheduled_at": datetime.combine(day, time(8 + 2 * (i % 5)), tzinfo=timezone.utc),
            "created_at": now, "done_at": None, "invoice_id": None})
    db.session.execute(insert(ServiceOrder), rows)
