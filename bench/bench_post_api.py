"""Posting one invoice through the API (post, number, journal entry, hash): latency per request.

    .venv/bin/python bench/bench_post_api.py [N]
"""
from __future__ import annotations

import sys
import time

from common import fresh_app, print_rows, row, summary_ms


def main(n: int = 300) -> list[dict]:
    app, _ = fresh_app("post_api")
    from addons.invoicing import services
    from core.extensions import db
    from core.partners import create_partner
    from core.security import create_token, create_user
    with app.app_context():
        partner = create_partner(name="Bench SA")
        tax = services.create_tax("VAT 20", "20")
        product = services.save_product(None, code="B1", name="Labour", type="labour", unit_price="65.00",
                                        tax_id=tax.id)
        ids = [services.create_invoice(partner.id, lines=[
            {"product_id": product.id, "quantity": "2"}, {"description": "Part", "quantity": "3",
                                                         "unit_price": "12.40", "tax_id": tax.id}]).id
               for _ in range(n)]
        token = create_token(create_user("bench", "admin", "bench-password"))
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for invoice_id in ids:
        start = time.perf_counter()
        response = client.post(f"/api/v1/invoices/{invoice_id}/post", headers=headers)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_data(as_text=True)
    return [row("post one invoice via API", summary_ms(samples), "p95 < 20 ms")]


if __name__ == "__main__":
    print_rows(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
