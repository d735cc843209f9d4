// Steps a user takes in Tessera's console, for the console test to run in
// the console page one at a time (window.steps.<step>(…), each a promise
// that settles when the page shows the step done, or rejects saying what
// it waited for). They use the page as a user does: the forms, the
// buttons, the players.
"use strict";

(() => {
	const $ = (sel) => document.querySelector(sel);
	async function wait(what, cond, ms) {
		const deadline = Date.now() + (ms || 15000);
		for (;;) {
			const v = cond();
			if (v) return v;
			if (Date.now() > deadline) {
				const toast = $("#toast:not([hidden])");
				throw new Error("timed out waiting for " + what + (toast ? " (the page says: " + toast.textContent + ")" : ""));
			}
			await new Promise((r) => setTimeout(r, 50));
		}
	}
	function type(sel, value) {
		const e = $(sel);
		e.value = value;
		e.dispatchEvent(new Event("input", { bubbles: true }));
	}
	const compositionRow = (state) => [...document.querySelectorAll("#compositions tr")].find((r) => r.cells[2] && r.cells[2].textContent === state);
	const go = async (hash, what, cond) => {
		location.hash = hash;
		return wait(what, cond);
	};

	window.steps = {
		async signIn() {
			const fill = await wait("the development credentials", () => [...document.querySelectorAll(".note button")].find((b) => b.textContent === "Fill them in"));
			fill.click();
			$("#signIn").click();
			await wait("the stages page", () => $("#stages"));
		},

		async createStage(name) {
			await go("#/stages", "the stages page", () => $("#createStage"));
			type("#stageName", name);
			$("#createStage button[type=submit]").click();
			const row = await wait("the new stage in the list", () => [...document.querySelectorAll("#stages tr[data-arn]")].find((r) => r.textContent.includes(name)));
			return row.dataset.arn;
		},

		async join(arn, user, attributes) {
			await go("#/join/" + encodeURIComponent(arn), "the join form", () => $("#joinStage") && $("#joinStage").value === arn);
			type("#joinUser", user);
			type("#joinAttributes", attributes);
			$("#joinStart").click();
			await wait("the connection", () => $("#joinState .badge.connected"), 30000);
		},

		async participants(arn) {
			await go("#/stage/" + encodeURIComponent(arn), "the participants", () => $("#participants tr"));
			return [...document.querySelectorAll("#participants tr")].map((r) => r.innerText);
		},

		async configure() {
			await go("#/configurations", "the configuration forms", () => $("#createEncoder"));
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
		},

		// startComposition starts a picture-in-picture composition of the
		// stage: the participant with featured=true fills the canvas, the
		// other is in the window at the top left.
		async startComposition(arn) {
			await go("#/compositions", "the composition form", () => $("#s3Storage option[value^='arn:']") && $("#s3Encoder option[value^='arn:']") && $("#compStage option[value='" + arn + "']"));
			$("#compStage").value = arn;
			$("#layoutKind").value = "pip";
			$("#layoutKind").dispatchEvent(new Event("change", { bubbles: true }));
			type("[name=featuredParticipantAttribute]", "featured");
			type("[name=gridGap]", "4");
			$("[name=pipPosition]").value = "TOP_LEFT";
			$("[name=omitStoppedVideo]").checked = true;
			$("#s3Encoder").value = $("#s3Encoder option[value^='arn:']").value;
			$("#startComposition").click();
			return (await wait("the composition ACTIVE", () => compositionRow("ACTIVE"), 30000)).innerText;
		},

		// watch opens Watch live and waits until the video plays.
		async watch() {
			compositionRow("ACTIVE").querySelector("button.watch").click();
			const video = await wait("the live video", () => $("#liveVideo") && $("#liveVideo").videoWidth > 0 && $("#liveVideo"), 30000);
			const t0 = video.currentTime;
			await wait("the live video to play", () => video.currentTime > t0 + 1 && $("#liveState .badge.connected"), 15000);
			return { width: video.videoWidth, height: video.videoHeight, muted: video.muted, played: video.currentTime - t0 };
		},

		// sample returns the colours [r, g, b] of the video sel shows now, at
		// the points [x, y] of a canvas×height picture.
		sample(sel, canvasW, canvasH, points) {
			const v = $(sel);
			const c = document.createElement("canvas");
			c.width = v.videoWidth;
			c.height = v.videoHeight;
			const ctx = c.getContext("2d", { willReadFrequently: true });
			ctx.drawImage(v, 0, 0);
			return points.map(([x, y]) => {
				const px = Math.round((x * v.videoWidth) / canvasW), py = Math.round((y * v.videoHeight) / canvasH);
				const d = ctx.getImageData(px - 2, py - 2, 5, 5).data;
				const sum = [0, 0, 0];
				for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
				return sum.map((s) => Math.round(s / (d.length / 4)));
			});
		},

		async stopWatching() {
			$("#liveStop").click();
			await wait("the viewer to stop", () => $("#liveState .badge.closed") && $("#liveStop").textContent === "Watch again");
			$(".dialog button.close").click();
			await wait("the player to close", () => !$("#liveVideo"));
		},

		// relayout changes the running composition to a grid with the same
		// featured attribute and a gap of 8.
		async relayout() {
			compositionRow("ACTIVE").querySelector("button.relayout").click();
			await wait("the layout form, filled in", () => $("#newLayoutKind") && $("#newLayoutKind").value === "pip" && $(".dialog [name=pipPosition]").value === "TOP_LEFT");
			$("#newLayoutKind").value = "grid";
			$("#newLayoutKind").dispatchEvent(new Event("change", { bubbles: true }));
			if ($(".dialog [name=featuredParticipantAttribute]").value !== "featured") throw new Error("changing the layout kind loses the fields both have");
			type(".dialog [name=gridGap]", "8");
			$("#updateLayout").click();
			await wait("the layout to change", () => !$("#newLayoutKind") && $("#toast").textContent.includes("Layout"));
		},

		async stopComposition() {
			const confirm = window.confirm;
			let asked = "";
			window.confirm = (q) => ((asked = q), true); // the user says OK
			compositionRow("ACTIVE").querySelector("button.danger").click();
			window.confirm = confirm;
			if (!asked.startsWith("Stop composition")) throw new Error("Stop asked no confirmation");
			await wait("the composition STOPPED", () => compositionRow("STOPPED"), 30000);
		},

		// playRecording plays the newest ENDED recording on the recordings
		// page until a second of it played.
		async playRecording() {
			await go("#/recordings", "the recordings page", () => $("#recStorage option"));
			const row = await wait("a recording ENDED", () => {
				const r = [...document.querySelectorAll("#recordings tr[data-prefix]")].find((r) => r.textContent.includes("ENDED"));
				if (!r) [...document.querySelectorAll("button")].find((b) => b.textContent === "Refresh").click();
				return r;
			}, 30000);
			row.querySelector("button.play").click();
			const v = await wait("the recording to play", () => $("#recVideo") && $("#recVideo").videoWidth > 0 && $("#recVideo").currentTime > 1 && $("#recVideo"), 30000);
			return { row: row.innerText, width: v.videoWidth, height: v.videoHeight, duration: v.duration, detail: $("#recDetail").textContent };
		},

		async closeDialog() {
			$(".dialog button.close").click();
			await wait("the dialog to close", () => !$(".dialog"));
		},

		// publishEnded waits until the Join page shows the publication over
		// without the user stopping it, and returns what it says.
		async publishEnded() {
			await go("#/join", "the join page", () => $("#joinStop"));
			await wait("the publication to end", () => $("#joinState .badge.idle") && $("#joinStop").disabled && $("#live").hidden && !$("#joinStart").disabled, 45000);
			return $("#joinDetail").textContent;
		},

		async signOut() {
			$("#signOut").click();
			await wait("the sign-in page", () => $("#signIn"));
			return { live: !$("#live").hidden };
		},

		async stopPublishing() {
			await go("#/join", "the stop button", () => $("#joinStop") && !$("#joinStop").disabled);
			$("#joinStop").click();
			await wait("the publication to stop", () => $("#joinState .badge.idle"));
		},
	};
})();
