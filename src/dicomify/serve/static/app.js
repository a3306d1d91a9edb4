// dicomify capture page: patient first, pictures, check (previews from the produced DICOM), publish.
// Plain JavaScript, served by the server itself (no CDN); talks to the JSON API with the CSRF token.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const facts = JSON.parse(document.querySelector('meta[name="facts"]').content);
  const $ = (selector) => document.querySelector(selector);
  const state = { patient: null, files: [], regions: [], lateralities: [], staged: null };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  async function api(method, url, body) {
    const headers = { "X-CSRF-Token": csrf, Accept: "application/json" };
    if (body && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    const response = await fetch(url, { method, headers, body, credentials: "same-origin" });
    let data = null;
    try { data = await response.json(); } catch (error) { data = { error: response.statusText }; }
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  // A POST whose upload progress is reported (fetch cannot tell how much was sent).
  function upload(url, form, onProgress) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("POST", url);
      request.setRequestHeader("X-CSRF-Token", csrf);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      request.addEventListener("load", () => {
        let data;
        try { data = JSON.parse(request.responseText); } catch (error) { data = { error: request.statusText }; }
        if (request.status >= 200 && request.status < 300) resolve(data);
        else reject(new Error(data.error || request.statusText));
      });
      request.addEventListener("error", () => reject(new Error("The server cannot be reached.")));
      request.send(form);
    });
  }

  // -- who and what -------------------------------------------------------------------------
  $("#user").textContent = facts.login ? "Logged in as " + facts.user : "";
  if (facts.login) {
    const form = $("#logout-form");
    form.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
      window.location.href = "/login";
    });
  }
  $("#publish").textContent = facts.publish ? "Send to the PACS (" + facts.pacs + ")" : "No PACS configured";

  // -- the patient banner: shown on every step ---------------------------------------------------
  function showPatient() {
    const banner = $("#banner");
    banner.replaceChildren();
    const p = state.patient;
    if (!p) {
      banner.className = "banner empty";
      banner.append(el("strong", { text: "No patient chosen yet." }), " Choose the patient first.");
    } else {
      banner.className = "banner";
      banner.append(
        el("span", { class: "label", text: "Patient" }),
        el("strong", { class: "name", text: p.name.replace(/\^/g, ", ") || "(no name)" }),
        el("span", { text: "ID " + (p.id || "-") }),
        el("span", { text: "born " + (p.birth || "-") }),
        el("span", { text: p.sex ? "sex " + p.sex : "" }),
        el("span", { text: p.accession ? "accession " + p.accession : "" }),
        el("span", { class: "source", text: p.source }),
      );
    }
    updateButtons();
  }

  function updateButtons() {
    $("#convert").disabled = !(state.patient && state.files.length);
    $("#publish").disabled = !(facts.publish && state.staged && state.staged.pictures.some((p) => p.ok));
  }

  // -- tabs -------------------------------------------------------------------------------------
  const tabs = ["worklist", "studies", "typed"];
  function selectTab(name) {
    for (const tab of tabs) {
      $("#tab-" + tab).setAttribute("aria-selected", String(tab === name));
      $("#panel-" + tab).hidden = tab !== name;
    }
  }
  tabs.forEach((tab, index) => {
    const button = $("#tab-" + tab);
    button.addEventListener("click", () => selectTab(tab));
    button.addEventListener("keydown", (event) => {
      const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (step) {
        const next = tabs[(index + step + tabs.length) % tabs.length];
        selectTab(next);
        $("#tab-" + next).focus();
      }
    });
  });
  if (!facts.worklist) { $("#tab-worklist").hidden = true; }
  if (!facts.studies) { $("#tab-studies").hidden = true; }
  selectTab(facts.worklist ? "worklist" : facts.studies ? "studies" : "typed");

  function choose(patient) {
    state.patient = patient;
    stale();
    showPatient();
    $("#drop").focus();
  }

  async function search(form, url, table, status, row) {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value.trim()) params.set(key, value.trim());
    status.textContent = "Searching…";
    table.hidden = true;
    try {
      const data = await api("GET", url + "?" + params);
      const body = table.querySelector("tbody");
      body.replaceChildren(...data.items.map(row));
      table.hidden = !data.items.length;
      status.textContent = data.items.length ? data.items.length + " found" : "Nothing found.";
    } catch (error) {
      status.textContent = error.message;
    }
  }

  $("#worklist-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search(event.target, "/api/worklist", $("#worklist-table"), $("#worklist-status"), (item) =>
      el("tr", {},
        el("td", { text: item.patient_name }), el("td", { text: item.patient_id }), el("td", { text: item.birth_date }),
        el("td", { text: item.accession_number }),
        el("td", { text: item.step_description || item.requested_procedure }),
        el("td", { text: (item.start_date + " " + item.start_time).trim() }),
        el("td", {}, el("button", {
          type: "button", text: "Choose", "aria-label": "Choose " + item.patient_name + " " + item.accession_number,
          onclick: () => choose({
            source: "from the worklist", order: item.accession_number, name: item.patient_name, id: item.patient_id,
            birth: item.birth_date, sex: item.sex, accession: item.accession_number,
          }),
        }))));
  });

  $("#studies-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search(event.target, "/api/studies", $("#studies-table"), $("#studies-status"), (item) =>
      el("tr", {},
        el("td", { text: item.patient_name }), el("td", { text: item.patient_id }), el("td", { text: item.study_date }),
        el("td", { text: item.accession_number }), el("td", { text: item.description }),
        el("td", { text: item.series_count === null ? "" : String(item.series_count) }),
        el("td", {}, el("button", {
          type: "button", text: "Choose", "aria-label": "Choose the study of " + item.study_date,
          onclick: () => choose({
            source: "adding to a study in the PACS", study: item.study_instance_uid, name: item.patient_name,
            id: item.patient_id, birth: item.birth_date, sex: item.sex, accession: item.accession_number,
          }),
        }))));
  });

  // -- typed patient, checked by the server as the command line checks it ---------------------------
  const typedForm = $("#typed-form");
  function fieldValues() {
    const values = {};
    for (const [key, value] of new FormData(typedForm)) if (value.trim()) values[key] = value.trim();
    return values;
  }
  async function checkTyped(submitting) {
    const values = fieldValues();
    const result = await api("POST", "/api/validate", values);
    for (const input of typedForm.querySelectorAll("input, select")) {
      let message = result.errors[input.name] || "";
      if (!message && submitting && input.required && !values[input.name]) message = "Needed.";
      input.setAttribute("aria-invalid", String(Boolean(message)));
      $("#e-" + input.name).textContent = message;
    }
    return result;
  }
  for (const input of typedForm.querySelectorAll("input, select")) input.addEventListener("change", () => checkTyped());
  typedForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await checkTyped(true);
    const values = result.metadata;
    if (!result.ok || !values.PatientName || !values.PatientID) {
      typedForm.querySelector('[aria-invalid="true"]')?.focus();
      return;
    }
    choose({
      source: "typed", metadata: values, name: values.PatientName, id: values.PatientID,
      birth: values.PatientBirthDate || "", sex: values.PatientSex || "", accession: values.AccessionNumber || "",
    });
  });

  // -- pictures ----------------------------------------------------------------------------------
  function option(value, text, selected) { return el("option", { value, text, selected: selected || false }); }

  function renderPictures() {
    const list = $("#pictures");
    list.replaceChildren(...state.files.map((entry, index) => {
      const part = el("select", { id: "bp-" + index, "aria-label": "Body part of " + entry.file.name,
        onchange: (event) => { entry.body_part = event.target.value; stale(); } },
        option("", "body part…"), ...state.regions.map((r) => option(r.body_part, r.meaning, r.body_part === entry.body_part)));
      const side = el("select", { id: "lat-" + index, "aria-label": "Laterality of " + entry.file.name,
        onchange: (event) => { entry.laterality = event.target.value; stale(); } },
        option("", "side…"), ...state.lateralities.map((l) => option(l.value, l.meaning, l.value === entry.laterality)));
      return el("li", { class: "picture" },
        el("span", { class: "name", text: entry.file.name }),
        el("span", { class: "size", text: Math.max(1, Math.round(entry.file.size / 1024)) + " KB" }),
        part, side,
        el("button", { type: "button", class: "link", text: "Remove", "aria-label": "Remove " + entry.file.name,
          onclick: () => { state.files.splice(index, 1); stale(); renderPictures(); } }));
    }));
    updateButtons();
  }

  // Anything changed (patient, pictures, choices): what was converted or sent no longer applies.
  function stale() {
    state.staged = null;
    $("#results").replaceChildren();
    $("#outcomes").replaceChildren();
    $("#check-status").textContent = "";
    $("#publish-status").textContent = "";
    $("#zip").hidden = true;
    updateButtons();
  }

  function addFiles(files) {
    for (const file of files) state.files.push({ file, body_part: "", laterality: "" });
    stale();
    renderPictures();
  }

  const drop = $("#drop");
  drop.addEventListener("click", () => $("#pick").click());
  drop.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); $("#pick").click(); } });
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => { event.preventDefault(); drop.classList.remove("over"); addFiles(event.dataTransfer.files); });
  for (const id of ["#pick", "#camera"]) $(id).addEventListener("change", (event) => { addFiles(event.target.files); event.target.value = ""; });
  $("#series").addEventListener("change", stale);

  api("GET", "/api/regions").then((data) => { state.regions = data.regions; state.lateralities = data.lateralities; renderPictures(); });

  // -- check: convert on the server, show what was produced ------------------------------------------
  function requestBody() {
    const form = new FormData();
    const p = state.patient;
    const metadata = Object.assign({}, p.metadata || {});
    const series = $("#series").value.trim();
    if (series) metadata.SeriesDescription = series;
    form.append("metadata", JSON.stringify(metadata));
    if (p.order) form.append("order", p.order);
    if (p.study) form.append("study", p.study);
    form.append("pictures", JSON.stringify(state.files.map((f) => ({ body_part: f.body_part, laterality: f.laterality }))));
    for (const entry of state.files) form.append("file", entry.file, entry.file.name);
    return form;
  }

  $("#convert").addEventListener("click", async () => {
    const status = $("#check-status");
    status.textContent = "Converting " + state.files.length + " picture(s)…";
    $("#convert").disabled = true;
    try {
      const count = state.files.length;
      state.staged = await upload("/api/stage", requestBody(), (done) => {
        status.textContent = done < 1
          ? "Uploading " + count + " picture(s): " + Math.round(done * 100) + "%"
          : "Converting " + count + " picture(s)…";
      });
      const good = state.staged.pictures.filter((p) => p.ok).length;
      status.textContent = good + " of " + state.staged.pictures.length + " converted. Check them, then publish.";
      renderResults();
    } catch (error) {
      status.textContent = error.message;
    }
    updateButtons();
  });

  function renderResults() {
    const id = state.staged.id;
    $("#results").replaceChildren(...state.staged.pictures.map((picture, index) => {
      const card = el("article", { class: picture.ok ? "result" : "result failed", "aria-label": picture.name });
      card.append(el("h3", { text: picture.name }));
      if (!picture.ok) {
        card.append(el("p", { class: "error", role: "alert", text: picture.error }));
        return card;
      }
      card.append(el("img", { src: picture.preview, alt: "Preview of " + picture.name + " as stored in DICOM" }));
      for (const warning of picture.warnings) card.append(el("p", { class: "warning", text: "⚠ " + warning }));
      const rows = picture.attributes.map((a) => el("tr", {}, el("th", { scope: "row", text: a.name }), el("td", { text: a.value })));
      card.append(el("table", { class: "attributes" }, el("tbody", {}, ...rows)));
      card.append(el("a", { href: "/api/stage/" + id + "/files/" + index, download: true, text: "Download .dcm" }));
      return card;
    }));
    const zip = $("#zip");
    zip.href = "/api/stage/" + id + "/zip";
    zip.hidden = false;
  }

  // -- publish to the server's PACS --------------------------------------------------------------
  // One request per picture, so each line shows its outcome as soon as the PACS answered.
  $("#publish").addEventListener("click", async () => {
    const status = $("#publish-status");
    const list = $("#outcomes");
    const pictures = state.staged.pictures;
    const lines = pictures.map((p) => el("li", { class: "pending", text: p.name + ": waiting" }));
    list.replaceChildren(...lines);
    $("#publish").disabled = true;
    let stored = 0;
    let failed = 0;
    for (let index = 0; index < pictures.length; index++) {
      status.textContent = "Sending " + (index + 1) + " of " + pictures.length + "…";
      lines[index].textContent = pictures[index].name + ": sending…";
      let result;
      try {
        const outcome = await api("POST", "/api/stage/" + state.staged.id + "/publish?index=" + index);
        result = outcome.results[0];
        stored += outcome.stored;
        failed += outcome.failed;
      } catch (error) {
        result = { name: pictures[index].name, status: "failed", message: error.message };
        failed += 1;
      }
      const good = ["stored", "stored-decoded", "committed"].includes(result.status);
      lines[index].className = good ? "ok" : "bad";
      lines[index].replaceChildren(el("strong", { text: result.name }), ": " + result.status + (result.message ? " — " + result.message : ""));
    }
    status.textContent = stored + " stored, " + failed + " not stored.";
    updateButtons();
  });

  showPatient();
})();
