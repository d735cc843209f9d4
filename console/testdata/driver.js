// Drives the console page like a user: signs in with the development
// credentials the page shows, creates a stage, publishes the fake camera
// to it from the Join page, finds the participant on the stage's page,
// creates an encoder and a storage configuration, starts a
// picture-in-picture composition recording to them, watches it live,
// changes its layout to a grid, stops it and stops publishing. Each step
// is reported to POST /test/report as {step, ...}; GET /test/continue
// waits for the test's checks.
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
const compositionRow = (state) => [...document.querySelectorAll("#compositions tr")].find((r) => r.cells[2] && r.cells[2].textContent === state);
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

		location.hash = "#/configurations";
		await wait("the configuration forms", () => $("#createEncoder"));
		type("#createEncoder [name=name]", "small");
		type("#createEncoder [name=width]", "640");
		type("#createEncoder [name=height]", "360");
		type("#createEncoder [name=framerate]", "15");
		type("#createEncoder [name=bitrate]", "800");
		$("#createEncoder button[type=submit]").click();
		await wait("the encoder configuration", () => [...document.querySelectorAll("#encoders tr")].find((r) => r.textContent.includes("small") && r.textContent.includes("640×360")));
		type("#createStorage [name=name]", "recordings");
		type("#createStorage [name=bucketName]", "console-recordings");
		$("#createStorage button[type=submit]").click();
		await wait("the storage configuration", () => [...document.querySelectorAll("#storages tr")].find((r) => r.textContent.includes("console-recordings")));
		await report("configured");

		location.hash = "#/compositions";
		await wait("the composition form", () => $("#s3Storage option[value^='arn:']") && $("#s3Encoder option[value^='arn:']") && $("#compStage option[value='" + arn + "']"));
		$("#compStage").value = arn;
		$("#layoutKind").value = "pip";
		$("#layoutKind").dispatchEvent(new Event("change", { bubbles: true }));
		type("[name=featuredParticipantAttribute]", "featured");
		type("[name=gridGap]", "4");
		$("[name=pipPosition]").value = "TOP_LEFT";
		$("[name=omitStoppedVideo]").checked = true;
		$("#s3Encoder").value = $("#s3Encoder option[value^='arn:']").value;
		$("#startComposition").click();
		const comp = await wait("the composition ACTIVE", () => compositionRow("ACTIVE"), 30000);
		await report("composition", { row: comp.innerText });
		await fetch("/test/continue");

		compositionRow("ACTIVE").querySelector("button.watch").click();
		const video = await wait("the live video", () => $("#liveVideo") && $("#liveVideo").videoWidth > 0 && $("#liveVideo"), 30000);
		const t0 = video.currentTime;
		await wait("the live video to play", () => video.currentTime > t0 + 1 && $("#liveState .badge.connected"), 15000);
		if (!video.muted || $("#liveSound").textContent !== "Unmute") throw new Error("the live video does not start muted");
		$("#liveSound").click();
		if (video.muted || $("#liveSound").textContent !== "Mute") throw new Error("Unmute leaves the video muted");
		await report("watched", { detail: video.videoWidth + "x" + video.videoHeight + " " + t0.toFixed(2) + "→" + video.currentTime.toFixed(2) + " s" });
		$("#liveStop").click();
		await wait("the viewer to stop", () => $("#liveState .badge.closed") && $("#liveStop").textContent === "Watch again" && !video.srcObject);
		$(".dialog button.close").click();
		await wait("the player to close", () => !$("#liveVideo"));

		compositionRow("ACTIVE").querySelector("button.relayout").click();
		await wait("the layout form, filled in", () => $("#newLayoutKind") && $("#newLayoutKind").value === "pip" && $(".dialog [name=pipPosition]").value === "TOP_LEFT");
		$("#newLayoutKind").value = "grid";
		$("#newLayoutKind").dispatchEvent(new Event("change", { bubbles: true }));
		if ($(".dialog [name=featuredParticipantAttribute]").value !== "featured") throw new Error("changing the layout kind loses the fields both have");
		type(".dialog [name=gridGap]", "8");
		$("#updateLayout").click();
		await wait("the layout to change", () => !$("#newLayoutKind") && $("#toast").textContent.includes("Layout"));
		await report("relaid");

		compositionRow("ACTIVE").querySelector("button.danger").click();
		await wait("the composition STOPPED", () => compositionRow("STOPPED"), 30000);
		await report("stopped");

		location.hash = "#/recordings";
		const rec = await wait("the recording ENDED", () => {
			const r = [...document.querySelectorAll("#recordings tr[data-prefix]")].find((r) => r.textContent.includes("ENDED"));
			if (!r) $("#recordings") && document.querySelector(".panel button.secondary").click(); // Refresh
			return r;
		}, 30000);
		rec.querySelector("button.play").click();
		const played = await wait("the recording to play", () => $("#recVideo") && $("#recVideo").videoWidth > 0 && $("#recVideo").currentTime > 1 && $("#recVideo"), 30000);
		await report("played", { row: rec.innerText, detail: played.videoWidth + "x" + played.videoHeight + " at " + played.currentTime.toFixed(2) + " of " + played.duration.toFixed(2) + " s; " + $("#recDetail").textContent });
		document.querySelector(".dialog .close").click();
		await wait("the player to close", () => !$("#recVideo"));

		location.hash = "#/join";
		await wait("the stop button", () => $("#joinStop") && !$("#joinStop").disabled);
		$("#joinStop").click();
		await wait("the publication to stop", () => $("#joinState .badge.idle"));
		await report("done");
	} catch (e) {
		await report("error", { detail: String(e && e.message ? e.message : e), page: document.body.innerText.slice(0, 3000) });
	}
})();
