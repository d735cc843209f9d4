// Drives the console page like a user: signs in with the development
// credentials the page shows, creates a stage, publishes the fake camera
// to it from the Join page, finds the participant on the stage's page,
// waits for the test, stops publishing. Each step is reported to
// POST /test/report as {step, ...}.
"use strict";

async function report(step, fields) {
	await fetch("/test/report", { method: "POST", body: JSON.stringify(Object.assign({ step }, fields || {})) });
}

async function wait(what, cond, ms) {
	const deadline = Date.now() + (ms || 15000);
	for (;;) {
		const v = cond();
		if (v) return v;
		if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
		await new Promise((r) => setTimeout(r, 50));
	}
}

const $ = (sel) => document.querySelector(sel);
function type(sel, value) {
	const e = $(sel);
	e.value = value;
	e.dispatchEvent(new Event("input", { bubbles: true }));
}

(async () => {
	try {
		await wait("the development credentials", () => [...document.querySelectorAll(".note button")].find((b) => b.textContent === "Fill them in")).then((b) => b.click());
		$("#signIn").click();
		await wait("the stages page", () => $("#stages"));
		await report("signed-in");
		type("#stageName", "browser-stage");
		$("#createStage button[type=submit]").click();
		const row = await wait("the new stage in the list", () => [...document.querySelectorAll("#stages tr[data-arn]")].find((r) => r.textContent.includes("browser-stage")));
		const arn = row.dataset.arn;
		await report("listed", { arn });

		location.hash = "#/join/" + encodeURIComponent(arn);
		await wait("the join form", () => $("#joinStage") && $("#joinStage").value === arn);
		type("#joinUser", "alice");
		type("#joinAttributes", "featured=true");
		$("#joinStart").click();
		await wait("the connection", () => $("#joinState .badge.connected") || $("#toast.bad:not([hidden])"), 30000);
		if (!$("#joinState .badge.connected")) throw new Error("publishing failed: " + $("#toast").textContent);
		await report("connected");

		location.hash = "#/stage/" + encodeURIComponent(arn);
		const p = await wait("alice on the stage page", () => [...document.querySelectorAll("#participants tr")].find((r) => r.textContent.includes("alice") && r.textContent.includes("CONNECTED")), 15000);
		await report("participant", { row: p.innerText });
		await fetch("/test/continue");

		location.hash = "#/join";
		await wait("the stop button", () => $("#joinStop") && !$("#joinStop").disabled);
		$("#joinStop").click();
		await wait("the publication to stop", () => $("#joinState .badge.idle"));
		await report("done");
	} catch (e) {
		await report("error", { detail: String(e && e.message ? e.message : e), page: document.body.innerText.slice(0, 3000) });
	}
})();
