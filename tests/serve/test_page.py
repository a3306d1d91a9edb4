"""The capture page end to end in a real browser: Debian's chromium driven by Playwright.

Patient from the worklist, a PNG and a multi-page TIFF dropped on the page, body part and
laterality chosen, the check step showing previews drawn from the produced objects, then
publish to a real Orthanc and the instances found there under the worklist's patient.
Screenshots of every step go to the test's folder (and to docs/serve/ with
DICOMIFY_DOCS_SCREENSHOTS=1, for the documentation).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from net.orthanc_server import Orthanc

from dicomify.serve.passwords import hash_password

from .conftest import write_png, write_tiff
from .server_process import REPO, ServerProcess

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium (apt-get install chromium): never a downloaded browser."""
    assert Path(CHROMIUM).exists(), "chromium is missing: apt-get install -y chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


class Shots:
    def __init__(self, folder: Path) -> None:
        self.folders = [folder]
        if os.environ.get("DICOMIFY_DOCS_SCREENSHOTS"):
            self.folders.append(REPO / "docs" / "serve")
        self.taken: list[Path] = []

    def take(self, page: Any, name: str, full_page: bool = True) -> None:
        if full_page:  # from the top, so the sticky patient banner is where a person sees it
            page.evaluate("() => window.scrollTo(0, 0)")
        for folder in self.folders:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{name}.png"
            page.screenshot(path=str(path), full_page=full_page)
            self.taken.append(path)


def drop_files(page: Any, selector: str, files: list[Path]) -> None:
    """Drop files on an element as a person dragging them from a file manager would."""
    payload = [
        {"name": path.name, "data": base64.b64encode(path.read_bytes()).decode("ascii"), "type": ""} for path in files
    ]
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name, { type: f.type }));
            }
            return transfer;
        }""",
        payload,
    )
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_capture_from_worklist_to_orthanc(
    browser: Any, open_server: ServerProcess, serve_orthanc: Orthanc, tmp_path: Path
) -> None:
    from net.worklist_servers import order, write_item

    written = order("ACC-PAGE-1", patient_name="BROWSER^BETTY", patient_id="PID-PAGE-1")
    write_item(serve_orthanc.worklists, "ACC-PAGE-1", written)  # type: ignore[attr-defined]
    write_png(tmp_path / "wound.png", seed=11)
    write_tiff(tmp_path / "consent-form.tif", pages=3)
    shots = Shots(tmp_path / "shots")

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(open_server.url + "/")
    assert page.locator("#banner").inner_text().startswith("No patient chosen yet.")
    shots.take(page, "01-start")

    # 1. Patient: from the worklist.
    page.fill("#worklist-form input[name=patient_id]", "PID-PAGE-1")
    page.click("#worklist-form button[type=submit]")
    page.wait_for_selector("#worklist-table tbody tr")
    assert "BROWSER^BETTY" in page.locator("#worklist-table").inner_text()
    shots.take(page, "02-worklist")
    page.click("#worklist-table tbody tr button")
    banner = page.locator("#banner").inner_text()
    assert "BROWSER, BETTY" in banner and "PID-PAGE-1" in banner and "ACC-PAGE-1" in banner

    # 2. Pictures: dropped; body part and laterality for the photo, a series description.
    drop_files(page, "#drop", [tmp_path / "wound.png", tmp_path / "consent-form.tif"])
    page.wait_for_selector("#pictures li:nth-child(2)")
    page.select_option("#bp-0", "HAND")
    page.select_option("#lat-0", "L")
    page.fill("#series", "Wound, day 3")
    page.dispatch_event("#series", "change")
    shots.take(page, "03-pictures")

    # 3. Check: previews from the produced objects, attributes, warnings.
    page.click("#convert")
    page.wait_for_selector("#results article:nth-child(2)")
    cards = page.locator("#results article")
    assert cards.count() == 2
    first = cards.nth(0).inner_text()
    assert "BROWSER^BETTY" in first and "Hand (SCT 85562004)" in first and "Wound, day 3" in first
    second = cards.nth(1).inner_text()
    assert "stored as Secondary Capture" in second and "Frames\t3" in second.replace(": ", "\t")
    width = page.eval_on_selector("#results article img", "img => img.naturalWidth")
    assert width == 80  # the produced object's columns
    shots.take(page, "04-check")

    # 4. Publish to the server's PACS.
    page.click("#publish")
    page.wait_for_selector("#outcomes li.ok:nth-child(2)")
    assert page.locator("#publish-status").inner_text() == "2 stored, 0 not stored."
    shots.take(page, "05-published")

    # The instances are in Orthanc, under the worklist's patient and order.
    patients = [serve_orthanc.json(f"/patients/{p}") for p in serve_orthanc.json("/patients")]
    (betty,) = [p for p in patients if p["MainDicomTags"]["PatientID"] == "PID-PAGE-1"]
    assert betty["MainDicomTags"]["PatientName"] == "BROWSER^BETTY"
    instances = serve_orthanc.json(f"/patients/{betty['ID']}/instances")
    assert len(instances) == 2
    tags = [serve_orthanc.json(f"/instances/{i['ID']}/simplified-tags") for i in instances]
    assert {t["AccessionNumber"] for t in tags} == {"ACC-PAGE-1"}
    assert sorted(t.get("NumberOfFrames", "1") for t in tags) == ["1", "3"]

    # Adding to the study now in the PACS: found by patient ID, chosen, shown in the banner.
    page.click("#tab-studies")
    page.fill("#studies-form input[name=patient_id]", "PID-PAGE-1")
    page.click("#studies-form button[type=submit]")
    page.wait_for_selector("#studies-table tbody tr")
    assert "Wound photography" in page.locator("#studies-table").inner_text()
    page.click("#studies-table tbody tr button")
    assert "adding to a study in the PACS" in page.locator("#banner").inner_text()
    assert page.locator("#results article").count() == 0  # a new patient context clears the check
    assert page.locator("#publish-status").inner_text() == "" and not page.locator("#zip").is_visible()
    shots.take(page, "07-study-in-pacs")

    # The same page on a phone screen.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    phone.goto(open_server.url + "/")
    phone.click("#tab-typed")
    phone.fill("#f-PatientName", "Doe^Jane")
    phone.fill("#f-PatientBirthDate", "1980-02-30")
    phone.dispatch_event("#f-PatientBirthDate", "change")
    from playwright.sync_api import expect

    expect(phone.locator("#e-PatientBirthDate")).to_contain_text("is not a valid date", timeout=TIMEOUT_MS)
    assert phone.get_attribute("#f-PatientBirthDate", "aria-invalid") == "true"
    shots.take(phone, "06-phone-typed-patient", full_page=False)
    phone.close()
    page.close()
    assert errors == []


def test_login_page(browser: Any, start_server: Any, tmp_path: Path) -> None:
    server: ServerProcess = start_server("page-login", {"auth": {"users": {"nurse": hash_password("correct horse")}}})
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url + "/")
    assert page.url.endswith("/login")
    page.fill("#user", "nurse")
    page.fill("#password", "wrong one")
    page.click("button[type=submit]")
    assert "wrong" in page.locator("[role=alert]").inner_text()
    page.fill("#user", "nurse")
    page.fill("#password", "correct horse")
    page.click("button[type=submit]")
    page.wait_for_selector("#banner")
    assert "Logged in as nurse" in page.locator("#user").inner_text()
    page.click("#logout-form button")
    page.wait_for_url("**/login")
    page.close()


def test_pick_and_camera_inputs_add_pictures(browser: Any, open_server: ServerProcess, tmp_path: Path) -> None:
    write_png(tmp_path / "picked.png", seed=21)
    write_png(tmp_path / "camera.png", seed=22)
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(open_server.url + "/")
    assert page.get_attribute("#camera", "capture") == "environment"
    assert page.get_attribute("#camera", "accept") == "image/*"
    page.set_input_files("#pick", str(tmp_path / "picked.png"))
    page.set_input_files("#camera", str(tmp_path / "camera.png"))
    page.wait_for_selector("#pictures li:nth-child(2)")
    assert page.locator("#pictures .name").all_inner_texts() == ["picked.png", "camera.png"]
    assert page.is_disabled("#convert")  # no patient yet: nothing can be converted
    page.click("#tab-typed")
    page.fill("#f-PatientName", "Camera^Carl")
    page.fill("#f-PatientID", "PID-CAM")
    page.click("#typed-form button[type=submit]")
    page.wait_for_selector("#banner:not(.empty)")
    page.click("#convert")
    page.wait_for_selector("#results article:nth-child(2)")
    assert "PID-CAM" in page.locator("#results").inner_text()
    page.close()


def test_the_page_loads_nothing_from_elsewhere() -> None:
    static = REPO / "src" / "dicomify" / "serve" / "static"
    for path in static.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "://" not in text, f"{path.name} refers to another site"
