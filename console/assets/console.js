// Tessera's web console: one page, routed by the URL's hash. Every API
// call goes through the console's session (POST /console/api/<Operation>
// with the CSRF token); nothing is fetched from elsewhere but the stage's
// WHIP endpoint and a composition's WHEP endpoint.
"use strict";

const POLL_MS = 2000;
let session = null; // {accessKeyId, csrfToken, channels}
let timers = []; // the current view's intervals
let cleanups = []; // the current view's teardown functions
let publisher = null; // the running WHIP publication, kept across views
let publishEnded = ""; // how the last publication ended, for the Join page
// CREATE_ENCODER is the encoder choice that makes the default one.
const CREATE_ENCODER = "create:hd-720p30";

// el builds an element: el("a", {href: "#"}, "text", child…). Attributes
// named on* are listeners; text is always text, never HTML.
function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
		else if (k === "class") e.className = v;
		else if (v === true) e.setAttribute(k, "");
		else e.setAttribute(k, v);
	}
	for (const c of children.flat()) {
		if (c === undefined || c === null || c === false) continue;
		e.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return e;
}

const badge = (s) => el("span", { class: "badge " + (s || "") }, s || "—");
const view = () => document.getElementById("view");

function toast(msg, bad) {
	const t = document.getElementById("toast");
	t.textContent = msg;
	t.className = "toast" + (bad ? " bad" : "");
	t.hidden = false;
	clearTimeout(toast.timer);
	toast.timer = setTimeout(() => (t.hidden = true), bad ? 7000 : 3000);
}

// APIError is an error answer: the API's exception type and message.
class APIError extends Error {
	constructor(status, type, message) {
		super((type ? type + ": " : "") + message);
		this.status = status;
		this.type = type;
	}
}

async function request(method, path, body) {
	const headers = {};
	if (body !== undefined) headers["Content-Type"] = "application/json";
	if (session && method !== "GET") headers["X-CSRF-Token"] = session.csrfToken;
	const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
	let data = {};
	try {
		data = await resp.json();
	} catch (e) {
		data = {};
	}
	if (resp.status === 401 && session) {
		session = null;
		route();
		throw new APIError(401, "", data.message || "sign in first");
	}
	if (!resp.ok) throw new APIError(resp.status, resp.headers.get("X-Amzn-Errortype") || "", data.message || resp.statusText);
	return data;
}

// api runs an ivs-realtime operation through the session.
const api = (operation, input) => request("POST", "/console/api/" + operation, input || {});

// every runs fn now and every POLL_MS while the view stays.
function every(fn) {
	fn();
	timers.push(setInterval(fn, POLL_MS));
}

// guarded runs an action and shows its error.
async function guarded(fn) {
	try {
		await fn();
	} catch (e) {
		if (e.status !== 401) toast(e.message, true);
	}
}

function formValues(form) {
	const o = {};
	for (const f of form.elements) {
		if (!f.name) continue;
		o[f.name] = f.type === "checkbox" ? f.checked : f.value.trim();
	}
	return o;
}

const field = (label, input) => el("label", {}, label, input);
const shortArn = (arn) => (arn || "").split("/").pop();
const when = (t) => (t ? new Date(t).toLocaleString() : "—");

// ---------------------------------------------------------------- routing

function route() {
	timers.forEach(clearInterval);
	timers = [];
	cleanups.forEach((f) => f());
	cleanups = [];
	const signedIn = !!session;
	// Nothing on the sign-in page shows that this browser publishes: it
	// stops with the session.
	if (!signedIn && publisher) stopPublishing("stopped: signed out");
	document.getElementById("live").hidden = !publisher;
	document.getElementById("nav").hidden = !signedIn;
	document.getElementById("who").hidden = !signedIn;
	if (!signedIn) {
		showSignIn();
		return;
	}
	document.getElementById("whoKey").textContent = session.accessKeyId;
	const hash = location.hash.replace(/^#\/?/, "");
	const [page, ...rest] = hash.split("/");
	const arg = decodeURIComponent(rest.join("/"));
	for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === (page || "stages"));
	view().replaceChildren();
	switch (page) {
		case "stage":
			return showStage(arg);
		case "join":
			return showJoin(arg);
		case "compositions":
			return showCompositions();
		case "recordings":
			return showRecordings(arg);
		case "configurations":
			return showConfigurations();
		default:
			return showStages();
	}
}

// ---------------------------------------------------------------- sign-in

async function showSignIn() {
	const error = el("div", { class: "error", id: "signinError" });
	const key = el("input", { name: "accessKeyId", id: "accessKeyId", autocomplete: "username", required: true, spellcheck: "false" });
	const secret = el("input", { name: "secretAccessKey", id: "secretAccessKey", type: "password", autocomplete: "current-password", required: true });
	const note = el("div", { class: "note", hidden: true });
	const form = el("form", {
		onsubmit: async (ev) => {
			ev.preventDefault();
			error.textContent = "";
			try {
				session = await request("POST", "/console/signin", { accessKeyId: key.value.trim(), secretAccessKey: secret.value });
				if (!location.hash || location.hash === "#/") location.hash = "#/stages";
				route();
			} catch (e) {
				error.textContent = e.message;
			}
		},
	},
		field("Access key id", key),
		field("Secret access key", secret),
		error,
		el("button", { type: "submit", id: "signIn" }, "Sign in"));
	view().replaceChildren(el("div", { class: "signin" },
		el("div", { class: "panel" },
			el("h1", {}, "Sign in to Tessera"),
			el("p", { class: "lead" }, "Use the access key of the server's ivs-realtime API (the one the AWS CLI and SDKs sign with)."),
			note, form)));
	try {
		const info = await request("GET", "/console/signin");
		if (info.development) {
			note.hidden = false;
			note.replaceChildren(
				el("strong", {}, "This server runs with the development credentials."),
				el("span", { class: "mono" }, "Access key id: " + info.development.accessKeyId),
				el("span", { class: "mono" }, "Secret access key: " + info.development.secretAccessKey),
				el("button", { type: "button", class: "secondary small", onclick: () => {
					key.value = info.development.accessKeyId;
					secret.value = info.development.secretAccessKey;
				} }, "Fill them in"));
		}
	} catch (e) {
		/* the form works without the hint */
	}
	key.focus();
}

async function signOut() {
	await guarded(async () => {
		await stopPublishing("stopped: signed out");
		await request("POST", "/console/signout");
		session = null;
		route();
	});
}

// ---------------------------------------------------------------- stages

function showStages() {
	const name = el("input", { name: "name", id: "stageName", placeholder: "e.g. my-show", pattern: "[a-zA-Z0-9_\\-]*", maxlength: "128", title: "letters, digits, - and _" });
	const body = el("tbody", { id: "stages" });
	const load = () => guarded(async () => {
		const out = await api("ListStages", { maxResults: 100 });
		const rows = (out.stages || []).map((s) => el("tr", { "data-arn": s.arn },
			el("td", {}, el("a", { href: "#/stage/" + encodeURIComponent(s.arn) }, s.name || "(no name)")),
			el("td", { class: "mono" }, shortArn(s.arn)),
			el("td", {}, s.activeSessionId ? badge("ACTIVE") : el("span", { class: "muted" }, "idle")),
			el("td", { class: "actions" },
				el("a", { href: "#/join/" + encodeURIComponent(s.arn) }, "Join"),
				el("a", { href: "#/stage/" + encodeURIComponent(s.arn) }, "Participants"),
				el("button", { class: "danger small", onclick: () => deleteStage(s) }, "Delete"))));
		body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 4, class: "empty" }, "No stages yet: create one above."))]));
	});
	const deleteStage = (s) => {
		if (!confirm("Delete stage " + (s.name || s.arn) + "? Its participants are disconnected.")) return;
		guarded(async () => {
			await api("DeleteStage", { arn: s.arn });
			toast("Stage deleted");
			load();
		});
	};
	view().append(
		el("h1", {}, "Stages"),
		el("p", { class: "lead" }, "A stage is a room participants publish to. Create one, then join it from this browser or any WHIP client."),
		el("div", { class: "panel" },
			el("form", { class: "row", id: "createStage", onsubmit: (ev) => {
				ev.preventDefault();
				guarded(async () => {
					const input = name.value.trim() ? { name: name.value.trim() } : {};
					const out = await api("CreateStage", input);
					name.value = "";
					toast("Stage " + (out.stage.name || shortArn(out.stage.arn)) + " created");
					load();
				});
			} }, el("label", { class: "grow" }, "New stage name", name), el("button", { type: "submit" }, "Create stage"))),
		el("div", { class: "panel" }, el("table", {},
			el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Id"), el("th", {}, "Session"), el("th", {}))), body)));
	every(load);
}

function showStage(arn) {
	const info = el("dl", { class: "kv" });
	const body = el("tbody", { id: "participants" });
	const title = el("h1", {}, "Stage");
	const frames = {}; // participantId → [framesDecoded, time] for the frame rate
	view().append(
		el("div", { class: "crumbs" }, el("a", { href: "#/stages" }, "Stages"), " / ", shortArn(arn)),
		el("div", { class: "head" }, el("div", {}, title, el("p", { class: "lead" }, "Participants of the stage's current session, refreshed every 2 seconds.")),
			el("a", { href: "#/join/" + encodeURIComponent(arn) }, el("button", { type: "button" }, "Join this stage"))),
		el("div", { class: "panel" }, info),
		el("div", { class: "panel" }, el("h2", {}, "Participants"), el("div", { class: "scroll" }, el("table", { class: "dense" },
			el("thead", {}, el("tr", {}, ["Participant", "User id", "State", "Published", "Protocol", "Video", "Frame rate", "Lost", "A/V offset", ""].map((h) => el("th", {}, h)))), body))));
	guarded(async () => {
		const { stage } = await api("GetStage", { arn });
		title.textContent = stage.name || "(no name)";
		const e = stage.endpoints || {};
		info.replaceChildren(...[["ARN", stage.arn], ["WHIP", e.whip], ["RTMP", e.rtmp], ["RTMPS", e.rtmps], ["Session", stage.activeSessionId || "none (nobody has joined)"]]
			.filter(([, v]) => v).flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: "mono" }, v)]));
	});
	every(() => guarded(async () => {
		const { stage } = await api("GetStage", { arn });
		if (!stage.activeSessionId) {
			body.replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "empty" }, "No active session: nobody has joined yet.")));
			return;
		}
		const [list, stats] = await Promise.all([
			api("ListParticipants", { stageArn: arn, sessionId: stage.activeSessionId, maxResults: 100 }),
			request("GET", "/console/stats?stageArn=" + encodeURIComponent(arn)),
		]);
		const byId = Object.fromEntries((stats.publishers || []).map((p) => [p.participantId, p]));
		const now = performance.now();
		const rows = (list.participants || []).map((p) => {
			const s = byId[p.participantId];
			let fps = "—";
			if (s) {
				const prev = frames[p.participantId];
				if (prev && now > prev[1]) fps = (((s.framesDecoded - prev[0]) * 1000) / (now - prev[1])).toFixed(1);
				frames[p.participantId] = [s.framesDecoded, now];
			}
			const video = s && s.width ? s.videoCodec + " " + s.width + "×" + s.height + (s.videoStopped ? " (stopped)" : "") : s && s.videoCodec ? s.videoCodec : "—";
			return el("tr", {},
				el("td", { class: "mono" }, p.participantId),
				el("td", {}, p.userId || el("span", { class: "muted" }, "—")),
				el("td", {}, badge(p.state)),
				el("td", {}, badge(p.published ? "yes" : "no")),
				el("td", {}, (s && s.protocol) || "—"),
				el("td", { class: "nowrap" }, video),
				el("td", {}, fps),
				el("td", { title: "RTP packets given up after the jitter wait; freezes of the picture" }, s ? s.packetsLost + (s.freezes ? " (" + s.freezes + (s.freezes === 1 ? " freeze)" : " freezes)") : "") : "—"),
				el("td", { title: "capture time of the newest sound minus that of the newest picture (positive: the sound runs ahead)" },
					s && s.avOffsetMs !== undefined ? (s.avOffsetMs > 0 ? "+" : "") + s.avOffsetMs + " ms" : "—"),
				el("td", { class: "actions" }, p.state === "CONNECTED" && el("button", { class: "danger small", onclick: () => guarded(async () => {
					await api("DisconnectParticipant", { stageArn: arn, participantId: p.participantId, reason: "disconnected from the console" });
					toast("Participant disconnected");
				}) }, "Disconnect")));
		});
		body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 10, class: "empty" }, "Nobody in this session."))]));
	}));
}

// ---------------------------------------------------------------- join (WHIP)

// parseAttributes reads "key=value" lines (or comma-separated pairs).
function parseAttributes(text) {
	const out = {};
	for (const part of text.split(/[\n,]/)) {
		const p = part.trim();
		if (!p) continue;
		const i = p.indexOf("=");
		if (i <= 0) throw new Error("attribute " + JSON.stringify(p) + " is not key=value");
		out[p.slice(0, i).trim()] = p.slice(i + 1).trim();
	}
	return out;
}

async function stageOptions(select, selected) {
	const out = await api("ListStages", { maxResults: 100 });
	select.replaceChildren(...(out.stages || []).map((s) => el("option", { value: s.arn, selected: s.arn === selected }, (s.name || "(no name)") + " — " + shortArn(s.arn))));
	if (!select.options.length) select.append(el("option", { value: "" }, "No stages: create one first"));
}

function showJoin(arn) {
	const stage = el("select", { name: "stage", id: "joinStage" });
	const userId = el("input", { name: "userId", id: "joinUser", placeholder: "e.g. alice", maxlength: "128" });
	const attrs = el("textarea", { name: "attributes", id: "joinAttributes", placeholder: "featured=true" });
	const source = el("select", { name: "source" }, el("option", { value: "camera" }, "Camera and microphone"), el("option", { value: "screen" }, "Screen (and its sound, if shared)"));
	const start = el("button", { type: "submit", id: "joinStart" }, "Publish");
	const stop = el("button", { type: "button", class: "danger", id: "joinStop", disabled: true, onclick: () => stopPublishing("stopped") }, "Stop");
	const state = el("span", { id: "joinState" }, badge("idle"));
	const detail = el("div", { class: "muted", id: "joinDetail" });
	const preview = el("video", { class: "video", id: "preview", muted: true, autoplay: true, playsinline: true });
	preview.muted = true;
	const show = () => {
		const p = publisher;
		start.disabled = !!p;
		stop.disabled = !p;
		const s = p ? p.state : "idle";
		state.replaceChildren(badge(s));
		detail.textContent = p ? p.detail : publishEnded;
		if (p && p.stream && preview.srcObject !== p.stream) preview.srcObject = p.stream;
		if (!p) preview.srcObject = null;
	};
	view().append(
		el("h1", {}, "Join a stage"),
		el("p", { class: "lead" }, "Publish this browser's camera and microphone, or your screen, to a stage over WHIP. The server mints a participant token with the user id and attributes below."),
		el("div", { class: "cols" },
			el("div", { class: "panel" },
				el("form", { id: "joinForm", onsubmit: (ev) => {
					ev.preventDefault();
					guarded(async () => {
						await startPublishing(stage.value, userId.value.trim(), parseAttributes(attrs.value), source.value, show);
					});
				} },
					el("div", { class: "fields" }, field("Stage", stage), field("Source", source), field("User id", userId)),
					el("p"), field("Attributes (key=value, one a line)", attrs),
					el("p", { class: "muted" }, "A composition's featuredParticipantAttribute or pipParticipantAttribute names one of these keys: its participants get the big tile (e.g. featured=true)."),
					el("div", { class: "row" }, start, stop))),
			el("div", { class: "panel" }, el("div", { class: "head" }, el("h2", {}, "Preview"), state), preview, detail)));
	guarded(() => stageOptions(stage, arn || (publisher && publisher.stageArn)));
	show();
	const t = setInterval(show, 500);
	cleanups.push(() => clearInterval(t));
}

async function startPublishing(stageArn, userId, attributes, source, onChange) {
	if (!stageArn) throw new Error("choose a stage");
	publishEnded = "";
	const p = { stageArn, state: "connecting", detail: "asking for the " + source, stream: null, pc: null, location: "", token: "" };
	publisher = p;
	onChange();
	// A stop (Stop, signing out) while this start is under way: it stops
	// at its next step and releases what it got meanwhile.
	const stopped = new Error("stopped");
	const check = () => {
		if (publisher !== p) throw stopped;
	};
	try {
		p.stream = source === "screen"
			? await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 30 }, audio: true })
			: await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true });
		check();
		p.detail = "minting a participant token";
		onChange();
		const input = { stageArn, capabilities: ["PUBLISH", "SUBSCRIBE"], attributes };
		if (userId) input.userId = userId;
		const { participantToken } = await api("CreateParticipantToken", input);
		check();
		p.token = participantToken.token;
		const { stage } = await api("GetStage", { arn: stageArn });
		check();
		const whip = stage.endpoints && stage.endpoints.whip;
		if (!whip) throw new Error("the stage has no WHIP endpoint");
		const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
		p.pc = pc;
		for (const track of p.stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [p.stream] });
		// The server disconnecting the participant closes DTLS; a network
		// that fails fails the connection: either way the publish is over.
		const end = (what) => {
			if (publisher !== p) return;
			p.location = ""; // the server has no session left to DELETE
			stopPublishing("ended: " + what + " (disconnected by the server, or the network failed); publish again to rejoin");
			toast("Publishing to the stage ended: " + what, true);
			onChange();
		};
		pc.addEventListener("connectionstatechange", () => {
			p.state = pc.connectionState;
			p.detail = "participant " + participantToken.participantId + " — connection " + pc.connectionState;
			if (pc.connectionState === "failed" || pc.connectionState === "closed") end("the connection " + pc.connectionState);
			onChange();
		});
		p.stream.getVideoTracks().forEach((t) => t.addEventListener("ended", () => stopPublishing("stopped: the " + source + " ended")));
		p.detail = "sending the offer to " + whip;
		onChange();
		await negotiate(pc, whip, p.token, "WHIP", (loc) => {
			p.location = loc;
		});
		check();
		const dtls = pc.getSenders().map((x) => x.transport).find((x) => x);
		if (dtls) dtls.addEventListener("statechange", () => (dtls.state === "closed" || dtls.state === "failed") && end("the server closed the connection"));
		p.detail = "participant " + participantToken.participantId + " — connecting";
		onChange();
	} catch (e) {
		if (publisher === p) {
			publisher = null;
			publishEnded = "failed: " + e.message;
		}
		await release(p);
		if (e !== stopped) throw e;
	}
}

// release ends publication p: its WHIP session (DELETE), its connection
// and its capture. It may run again for what a start got after a stop.
async function release(p) {
	await hangUp(p);
	if (p.pc) p.pc.close();
	if (p.stream) p.stream.getTracks().forEach((t) => t.stop());
}

// stopPublishing ends this browser's publish, if any; why, if given, is
// what the Join page then says.
async function stopPublishing(why) {
	const p = publisher;
	if (!p) return;
	publisher = null;
	publishEnded = why || "";
	await release(p);
}

// negotiate sends pc's offer, with all its ICE candidates, to a WHIP or
// WHEP endpoint with the bearer token, applies the answer and returns the
// session's URL (its Location). located, if given, gets that URL as soon
// as the server answers, so that a caller stopped meanwhile (applying the
// answer to a closed connection fails) can still end the session.
async function negotiate(pc, url, token, protocol, located) {
	await pc.setLocalDescription(await pc.createOffer());
	await new Promise((resolve) => {
		if (pc.iceGatheringState === "complete") return resolve();
		const done = setTimeout(resolve, 2000);
		pc.addEventListener("icegatheringstatechange", () => {
			if (pc.iceGatheringState === "complete") {
				clearTimeout(done);
				resolve();
			}
		});
	});
	const resp = await fetch(url, { method: "POST", headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + token }, body: pc.localDescription.sdp });
	const answer = await resp.text();
	if (resp.status !== 201) throw new Error(protocol + " answered " + resp.status + ": " + answer.trim());
	const loc = resp.headers.get("Location");
	const href = loc ? new URL(loc, url).href : "";
	if (located) located(href);
	await pc.setRemoteDescription({ type: "answer", sdp: answer });
	return href;
}

// hangUp ends session s ({location, token}) of WHIP or WHEP: it DELETEs
// its URL with the token, once (it clears s.location, so a stop and a
// start still under way that learns the URL later do not both), waiting
// at most 5 s for the answer.
async function hangUp(s) {
	const location = s.location;
	s.location = "";
	if (!location) return;
	try {
		await fetch(location, { method: "DELETE", headers: { Authorization: "Bearer " + s.token }, signal: AbortSignal.timeout(5000) });
	} catch (e) {
		/* the server ends the session when the connection goes */
	}
}

// ---------------------------------------------------------------- compositions

const ENUMS = {
	videoAspectRatio: ["", "AUTO", "VIDEO", "SQUARE", "PORTRAIT"],
	videoFillMode: ["", "FILL", "COVER", "CONTAIN"],
	pipBehavior: ["", "STATIC", "DYNAMIC"],
	pipPosition: ["", "TOP_LEFT", "TOP_RIGHT", "BOTTOM_LEFT", "BOTTOM_RIGHT"],
};
// LAYOUT_FIELDS lists each layout's fields: [name, kind]; kind is "text",
// "number", "bool" or an ENUMS key.
const LAYOUT_FIELDS = {
	grid: [["featuredParticipantAttribute", "text"], ["participantOrderAttribute", "text"], ["omitStoppedVideo", "bool"], ["videoAspectRatio", "enum"], ["videoFillMode", "enum"], ["gridGap", "number"]],
	pip: [["featuredParticipantAttribute", "text"], ["participantOrderAttribute", "text"], ["omitStoppedVideo", "bool"], ["videoFillMode", "enum"], ["gridGap", "number"],
		["pipParticipantAttribute", "text"], ["pipBehavior", "enum"], ["pipOffset", "number"], ["pipPosition", "enum"], ["pipWidth", "number"], ["pipHeight", "number"]],
};

// layoutInput is one layout field, holding value (undefined: empty).
function layoutInput(name, kind, value) {
	if (kind === "bool") return el("label", { class: "check" }, el("input", { type: "checkbox", name, checked: value === true }), name);
	if (kind === "enum") return field(name, el("select", { name }, ENUMS[name].map((v) => el("option", { value: v, selected: v === value }, v || "(default)"))));
	return field(name, el("input", { name, type: kind === "number" ? "number" : "text", min: kind === "number" ? "0" : undefined, placeholder: "default", value: value === undefined ? undefined : String(value) }));
}

// layoutValue reads the layout form: only the fields given.
function layoutValue(kind, form) {
	const v = formValues(form);
	const out = {};
	for (const [name, type] of LAYOUT_FIELDS[kind]) {
		const x = v[name];
		if (type === "bool") {
			if (x) out[name] = true;
		} else if (x !== "" && x !== undefined) out[name] = type === "number" ? Number(x) : x;
	}
	return { [kind]: out };
}

// layoutEditor is the layout part of StartComposition's and
// UpdateComposition's forms: the kind (a select with the id kindId) and
// its fields, set from layout ({grid: {…}} or {pip: {…}}). Changing the
// kind keeps the fields both kinds have. value() is the LayoutConfiguration.
function layoutEditor(kindId, layout) {
	const [initial, opts] = Object.entries(layout || {})[0] || ["grid", {}];
	const kind = el("select", { name: "layoutKind", id: kindId }, el("option", { value: "grid" }, "Grid"), el("option", { value: "pip" }, "Picture in picture"));
	kind.value = initial;
	const box = el("div", { class: "fields" });
	const form = el("form", { onsubmit: (ev) => ev.preventDefault() }, box);
	let shown = kind.value;
	const draw = (values) => {
		shown = kind.value;
		box.replaceChildren(...LAYOUT_FIELDS[shown].map(([n, k]) => layoutInput(n, k, values[n])));
	};
	kind.addEventListener("change", () => draw(layoutValue(shown, form)[shown]));
	draw(opts || {});
	return { kind, form, value: () => layoutValue(kind.value, form) };
}

// modal shows a dialog over the page until close() (the × button or
// Escape), which runs onClose first.
function modal(title, onClose, ...children) {
	const close = () => {
		document.removeEventListener("keydown", esc);
		back.remove();
		onClose();
	};
	const esc = (ev) => ev.key === "Escape" && close();
	const back = el("div", { class: "modal" }, el("div", { class: "panel dialog", role: "dialog", "aria-label": title },
		el("div", { class: "head" }, el("h2", {}, title), el("button", { type: "button", class: "secondary small close", title: "Close", onclick: close }, "×")),
		...children));
	document.addEventListener("keydown", esc);
	document.body.append(back);
	cleanups.push(() => back.isConnected && close());
	return close;
}

// watchLive plays a running composition in a dialog by WHEP, with a
// viewer token from CreateViewerToken; closing the dialog ends the session.
function watchLive(c) {
	const video = el("video", { class: "video", id: "liveVideo", muted: true, autoplay: true, playsinline: true });
	video.muted = true;
	const state = el("span", { id: "liveState" }, badge("new"));
	const detail = el("div", { class: "muted", id: "liveDetail" });
	const sound = el("button", { type: "button", class: "secondary", id: "liveSound", onclick: () => {
		video.muted = !video.muted;
		sound.textContent = video.muted ? "Unmute" : "Mute";
	} }, "Unmute");
	const toggle = el("button", { type: "button", class: "danger", id: "liveStop" }, "Stop");
	let v = null; // {pc, location, token} while watching
	const show = (s, text) => {
		state.replaceChildren(badge(s));
		detail.textContent = text || "";
		toggle.textContent = v ? "Stop" : "Watch again";
		toggle.className = v ? "danger" : "";
	};
	const stop = async () => {
		const w = v;
		v = null;
		if (!w) return;
		video.srcObject = null;
		show("closed", "stopped");
		// DELETE first: closing first ends the session on the server, and
		// the DELETE then finds none (404).
		await hangUp(w);
		w.pc.close();
	};
	const start = () => guarded(async () => {
		const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
		const w = { pc, location: "", token: "" };
		v = w;
		show("connecting", "minting a viewer token");
		try {
			const { viewerToken } = await api("CreateViewerToken", { compositionArn: c.arn, duration: 60 });
			w.token = viewerToken.token;
			pc.addTransceiver("video", { direction: "recvonly" });
			pc.addTransceiver("audio", { direction: "recvonly" });
			const stream = new MediaStream();
			pc.addEventListener("track", (ev) => {
				// Show frames as soon as they are decoded: a live view, not a broadcast.
				if ("jitterBufferTarget" in ev.receiver) ev.receiver.jitterBufferTarget = 0;
				stream.addTrack(ev.track);
				video.srcObject = stream;
			});
			pc.addEventListener("connectionstatechange", () => v === w && show(pc.connectionState, "connection " + pc.connectionState));
			show("connecting", "sending the offer to " + viewerToken.whepUrl);
			await negotiate(pc, viewerToken.whepUrl, w.token, "WHEP", (loc) => {
				w.location = loc;
			});
			if (v !== w) return hangUp(w); // stopped meanwhile
			show(pc.connectionState, "connection " + pc.connectionState);
		} catch (e) {
			if (v !== w) return hangUp(w); // stopped meanwhile
			await stop();
			show("failed", e.message);
			throw e;
		}
	});
	toggle.addEventListener("click", () => (v ? stop() : start()));
	modal("Watch " + shortArn(c.arn) + " live", stop,
		video,
		el("div", { class: "row player" }, state, el("span", { class: "grow" }, detail), sound, toggle),
		el("p", { class: "muted" }, "The composition as its destinations get it, by WHEP (H.264 and Opus), a second or so behind."));
	start();
}

// changeLayout edits a running composition's layout (UpdateComposition),
// starting from its current one (GetComposition).
function changeLayout(c, done) {
	guarded(async () => {
		const { composition } = await api("GetComposition", { arn: c.arn });
		const ed = layoutEditor("newLayoutKind", composition.layout);
		const apply = el("button", { type: "button", id: "updateLayout", onclick: () => guarded(async () => {
			await api("UpdateComposition", { arn: c.arn, layout: ed.value() });
			toast("Layout of " + shortArn(c.arn) + " changed");
			close();
			done();
		}) }, "Change layout");
		const close = modal("Change the layout of " + shortArn(c.arn), () => {},
			el("div", { class: "fields" }, field("Layout", ed.kind)),
			el("p"),
			el("fieldset", {}, el("legend", {}, "Layout options (empty: the API's defaults)"), ed.form),
			el("div", { class: "row" }, apply, el("button", { type: "button", class: "secondary", onclick: () => close() }, "Cancel")));
	});
}

const running = (c) => c.state === "ACTIVE" || c.state === "STARTING";

// compositionDetails shows a composition's layout and where each
// destination goes (GetComposition).
function compositionDetails(c) {
	const [kind, opts] = Object.entries(c.layout || {})[0] || ["grid", {}];
	const rows = [["Layout", kind + " " + JSON.stringify(opts)]];
	for (const d of c.destinations || []) {
		const conf = d.configuration || {};
		let where = "";
		if (conf.s3) where = "storage " + shortArn(conf.s3.storageConfigurationArn) + (d.detail && d.detail.s3 ? ", prefix " + d.detail.s3.recordingPrefix : "");
		if (conf.channel) where = "channel " + conf.channel.channelArn;
		rows.push(["Destination " + d.id, d.state + " — " + where]);
	}
	return el("dl", { class: "kv" }, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: "mono" }, v)]));
}

function showCompositions() {
	const body = el("tbody", { id: "compositions" });
	const stage = el("select", { name: "stageArn", id: "compStage" });
	const layout = layoutEditor("layoutKind");

	const s3On = el("input", { type: "checkbox", id: "s3On", checked: true });
	const storage = el("select", { id: "s3Storage" });
	const encoder = el("select", { id: "s3Encoder" });
	const chOn = el("input", { type: "checkbox", id: "chOn" });
	const channel = el("select", { id: "channel" }, (session.channels || []).map((c) => el("option", { value: c }, c)));
	const chEncoder = el("select", { id: "chEncoder" });
	const loadConfigs = () => guarded(async () => {
		const [enc, sto] = await Promise.all([api("ListEncoderConfigurations", { maxResults: 100 }), api("ListStorageConfigurations", { maxResults: 100 })]);
		// Each encoder configuration labelled with its video (the list
		// has names only).
		const encs = await Promise.all((enc.encoderConfigurations || []).map(async (e) => (await api("GetEncoderConfiguration", { arn: e.arn })).encoderConfiguration));
		const encOpts = () => [el("option", { value: "" }, "(default 1280×720 30 fps)")].concat(encs.map((e) => {
			const v = e.video || {};
			return el("option", { value: e.arn }, (e.name || shortArn(e.arn)) + " — " + v.width + "×" + v.height + " " + v.framerate + " fps");
		}));
		encoder.replaceChildren(...encOpts().slice(1));
		if (!encoder.options.length) encoder.append(el("option", { value: CREATE_ENCODER }, "New: 720p30, 2.5 Mbit/s"));
		chEncoder.replaceChildren(...encOpts());
		storage.replaceChildren(...(sto.storageConfigurations || []).map((s) => el("option", { value: s.arn }, (s.name || shortArn(s.arn)) + " — " + ((s.s3 && s.s3.bucketName) || ""))));
		if (!storage.options.length) storage.append(el("option", { value: "" }, "No storage configuration: create one under Configurations"));
	});

	const start = () => guarded(async () => {
		if (!layout.form.reportValidity()) return;
		const destinations = [];
		if (s3On.checked) {
			if (!storage.value) throw new Error("choose a storage configuration (create one under Configurations)");
			let enc = encoder.value;
			if (enc === CREATE_ENCODER) {
				// A recording needs an encoder configuration (the API's
				// rule); with none yet, the console makes the default one.
				const out = await api("CreateEncoderConfiguration", { name: "hd-720p30", video: { width: 1280, height: 720, framerate: 30, bitrate: 2500000 } });
				enc = out.encoderConfiguration.arn;
				toast("Created encoder configuration hd-720p30 (1280×720, 30 fps, 2.5 Mbit/s)");
				await loadConfigs();
			}
			if (!enc) throw new Error("choose an encoder configuration (create one under Configurations)");
			destinations.push({ s3: { storageConfigurationArn: storage.value, encoderConfigurationArns: [enc] } });
		}
		if (chOn.checked) {
			if (!channel.value) throw new Error("the server has no channels configured (tessera serve --channel ARN=rtmp[s]://…)");
			const d = { channel: { channelArn: channel.value } };
			if (chEncoder.value) d.channel.encoderConfigurationArn = chEncoder.value;
			destinations.push(d);
		}
		const out = await api("StartComposition", { stageArn: stage.value, layout: layout.value(), destinations });
		toast("Composition " + shortArn(out.composition.arn) + " starting");
		load();
	});

	const open = new Set(); // compositions whose details are shown
	const load = () => guarded(async () => {
		const out = await api("ListCompositions", { maxResults: 100 });
		const names = Object.fromEntries([...stage.options].map((o) => [o.value, o.textContent.split(" — ")[0]]));
		const details = Object.fromEntries(await Promise.all((out.compositions || []).filter((c) => open.has(c.arn))
			.map(async (c) => [c.arn, (await api("GetComposition", { arn: c.arn })).composition])));
		const rows = (out.compositions || []).flatMap((c) => [el("tr", {},
			el("td", { class: "mono" }, el("a", { href: "#/compositions", title: "Show or hide the layout and destinations", onclick: (ev) => {
				ev.preventDefault();
				open.has(c.arn) ? open.delete(c.arn) : open.add(c.arn);
				load();
			} }, (open.has(c.arn) ? "▾ " : "▸ ") + shortArn(c.arn))),
			el("td", {}, names[c.stageArn] || shortArn(c.stageArn)),
			el("td", {}, badge(c.state)),
			el("td", {}, (c.destinations || []).map((d) => el("div", {}, el("span", { class: "mono" }, d.id + " "), badge(d.state)))),
			el("td", {}, when(c.startTime)),
			el("td", { class: "actions" }, running(c) && [
				el("button", { class: "secondary small watch", onclick: () => watchLive(c) }, "Watch live"),
				el("button", { class: "secondary small relayout", onclick: () => changeLayout(c, load) }, "Change layout"),
				el("button", { class: "danger small", onclick: () => guarded(async () => {
					if (!confirm("Stop composition " + shortArn(c.arn) + "? Its recordings end and its channels stop.")) return;
					await api("StopComposition", { arn: c.arn });
					toast("Stopping composition " + shortArn(c.arn));
					load();
				}) }, "Stop")])),
		...(details[c.arn] ? [el("tr", { class: "details" }, el("td", { colspan: 6 }, compositionDetails(details[c.arn])))] : [])]);
		body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No compositions yet."))]));
	});

	view().append(
		el("h1", {}, "Compositions"),
		el("p", { class: "lead" }, "A composition renders a stage's participants into one stream and records it to storage or pushes it to a channel."),
		el("div", { class: "panel" }, el("table", {},
			el("thead", {}, el("tr", {}, ["Composition", "Stage", "State", "Destinations", "Started", ""].map((h) => el("th", {}, h)))), body)),
		el("div", { class: "panel" },
			el("h2", {}, "Start a composition"),
			el("div", { class: "fields" }, field("Stage", stage), field("Layout", layout.kind)),
			el("p"),
			el("fieldset", {}, el("legend", {}, "Layout options (empty: the API's defaults)"), layout.form),
			el("fieldset", {}, el("legend", {}, el("label", { class: "check" }, s3On, "Record to storage (HLS)")),
				el("div", { class: "fields" }, field("Storage configuration", storage), field("Encoder configuration", encoder))),
			el("fieldset", {}, el("legend", {}, el("label", { class: "check" }, chOn, "Push to a channel (RTMP)")),
				session.channels && session.channels.length
					? el("div", { class: "fields" }, field("Channel", channel), field("Encoder configuration", chEncoder))
					: el("p", { class: "muted" }, "This server has no channels configured: start it with --channel ARN=rtmp[s]://host/app/key.")),
			el("button", { type: "button", id: "startComposition", onclick: start }, "Start composition")));
	guarded(async () => {
		await stageOptions(stage);
		await loadConfigs();
		every(load);
	});
}

// ---------------------------------------------------------------- configurations

function showConfigurations() {
	const encBody = el("tbody", { id: "encoders" });
	const stoBody = el("tbody", { id: "storages" });
	const load = () => guarded(async () => {
		const [enc, sto] = await Promise.all([api("ListEncoderConfigurations", { maxResults: 100 }), api("ListStorageConfigurations", { maxResults: 100 })]);
		const encRows = await Promise.all((enc.encoderConfigurations || []).map(async (e) => {
			const { encoderConfiguration: full } = await api("GetEncoderConfiguration", { arn: e.arn });
			const v = full.video || {};
			return el("tr", {}, el("td", {}, e.name || "(no name)"), el("td", { class: "mono" }, shortArn(e.arn)),
				el("td", {}, v.width + "×" + v.height + " " + v.framerate + " fps " + Math.round(v.bitrate / 1000) + " kbit/s"),
				el("td", { class: "actions" }, el("button", { class: "danger small", onclick: () => remove("DeleteEncoderConfiguration", e.arn, "encoder configuration " + (e.name || shortArn(e.arn))) }, "Delete")));
		}));
		encBody.replaceChildren(...(encRows.length ? encRows : [el("tr", {}, el("td", { colspan: 4, class: "empty" }, "None yet. A recording needs one (starting a composition with none makes a 1280×720, 30 fps, 2.5 Mbit/s one); a channel without one gets those settings."))]));
		const stoRows = (sto.storageConfigurations || []).map((s) => el("tr", {}, el("td", {}, s.name || "(no name)"), el("td", { class: "mono" }, shortArn(s.arn)),
			el("td", { class: "mono" }, (s.s3 && s.s3.bucketName) || ""),
			el("td", { class: "actions" }, el("button", { class: "danger small", onclick: () => remove("DeleteStorageConfiguration", s.arn, "storage configuration " + (s.name || shortArn(s.arn)) + " (its recordings stay in the bucket)") }, "Delete"))));
		stoBody.replaceChildren(...(stoRows.length ? stoRows : [el("tr", {}, el("td", { colspan: 4, class: "empty" }, "None yet."))]));
	});
	const remove = (op, arn, what) => guarded(async () => {
		if (!confirm("Delete " + what + "?")) return;
		await api(op, { arn });
		toast("Deleted");
		load();
	});
	const create = (op, build) => (ev) => {
		ev.preventDefault();
		guarded(async () => {
			await api(op, build(formValues(ev.target)));
			ev.target.reset();
			toast("Created");
			load();
		});
	};
	const num = (label, name, value, step, min) => field(label, el("input", { name, type: "number", value, required: true, step: step || "1", min: min || "1" }));
	view().append(
		el("h1", {}, "Configurations"),
		el("p", { class: "lead" }, "Encoder configurations set a composition's size, frame rate and bitrate; storage configurations name the bucket recordings go to."),
		el("div", { class: "cols" },
			el("div", { class: "panel" }, el("h2", {}, "Encoder configurations"),
				el("form", { id: "createEncoder", onsubmit: create("CreateEncoderConfiguration", (v) => {
					const input = { video: { width: Number(v.width), height: Number(v.height), framerate: Number(v.framerate), bitrate: Number(v.bitrate) * 1000 } };
					if (v.name) input.name = v.name;
					return input;
				}) },
					el("div", { class: "fields" }, field("Name", el("input", { name: "name", placeholder: "e.g. hd" })), num("Width (even)", "width", "1280", "2", "2"), num("Height (even)", "height", "720", "2", "2"), num("Frame rate", "framerate", "30", "any"), num("Bitrate (kbit/s)", "bitrate", "2500")),
					el("button", { type: "submit" }, "Create encoder configuration")),
				el("p"), el("table", {}, el("thead", {}, el("tr", {}, ["Name", "Id", "Video", ""].map((h) => el("th", {}, h)))), encBody)),
			el("div", { class: "panel" }, el("h2", {}, "Storage configurations"),
				el("form", { id: "createStorage", onsubmit: create("CreateStorageConfiguration", (v) => {
					const input = { s3: { bucketName: v.bucketName } };
					if (v.name) input.name = v.name;
					return input;
				}) },
					el("div", { class: "fields" }, field("Name", el("input", { name: "name", placeholder: "e.g. recordings" })), field("Bucket", el("input", { name: "bucketName", required: true, placeholder: "e.g. my-recordings" }))),
					el("p", { class: "muted" }, "The bucket in the server's S3 storage (or a folder under its data directory without S3)."),
					el("button", { type: "submit" }, "Create storage configuration")),
				el("p"), el("table", {}, el("thead", {}, el("tr", {}, ["Name", "Id", "Bucket", ""].map((h) => el("th", {}, h)))), stoBody))));
	load();
}

// ---------------------------------------------------------------- recordings

// mediaURL is where the console serves a recording's object from.
const mediaURL = (storageArn, key) => "/console/recordings/media/" + encodeURIComponent(shortArn(storageArn)) + "/" + key.split("/").map(encodeURIComponent).join("/");

// duration formats the milliseconds between two times as 1:02:03 or 2:03.
function duration(from, to) {
	const s = Math.max(0, Math.round((new Date(to) - new Date(from)) / 1000));
	const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = String(s % 60).padStart(2, "0");
	return h ? h + ":" + String(m).padStart(2, "0") + ":" + sec : m + ":" + sec;
}

// showRecordings lists the recordings in a storage configuration's bucket
// (composite and individual participant recordings), newest first.
function showRecordings(storageArn) {
	const select = el("select", { id: "recStorage" });
	const body = el("tbody", { id: "recordings" });
	const more = el("button", { type: "button", class: "secondary", id: "recMore", hidden: true }, "Older objects…");
	const info = el("p", { class: "muted", id: "recInfo" });
	let after = "";
	let stageNames = {}; // stage id → name, of the stages that still exist
	const load = (append) => guarded(async () => {
		const arn = select.value;
		if (!arn) return;
		if (!append) after = "";
		const q = "storage=" + encodeURIComponent(arn) + (after ? "&after=" + encodeURIComponent(after) : "");
		const res = await request("GET", "/console/recordings?" + q);
		after = res.next || "";
		more.hidden = !after;
		info.textContent = "Bucket " + res.bucket + (after ? " — more objects follow" : "");
		const rows = (res.recordings || []).map((r) => {
			const who = r.kind === "composite"
				? el("span", {}, "Composition ", el("span", { class: "mono" }, r.compositionId))
				: el("span", {}, "Participant ", el("span", { class: "mono" }, r.participantId));
			const thumb = r.thumbnail ? el("img", { class: "thumb", src: mediaURL(arn, r.thumbnail), alt: "", loading: "lazy" }) : el("div", { class: "thumb none" });
			const play = el("button", { class: "play small", disabled: !r.playlist, title: r.playlist ? "" : "no segment yet", onclick: () => playRecording(arn, r) }, "Play");
			return el("tr", { "data-prefix": r.prefix }, el("td", {}, thumb),
				el("td", {}, el("div", {}, who), el("div", { class: "muted" }, "stage ", stageNames[r.stageId] ? stageNames[r.stageId] + " " : "", el("span", { class: "mono" }, stageNames[r.stageId] ? "(" + r.stageId + ")" : r.stageId))),
				el("td", {}, when(r.startedAt)),
				el("td", {}, r.endedAt ? duration(r.startedAt, r.endedAt) : "—"),
				el("td", {}, badge(r.state)),
				el("td", { class: "actions" }, play));
		});
		if (!append) body.replaceChildren();
		body.append(...rows);
		if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "empty" }, "Nothing recorded in this bucket yet.")));
	});
	select.addEventListener("change", () => (location.hash = "#/recordings/" + encodeURIComponent(select.value)));
	more.addEventListener("click", () => load(true));
	view().append(
		el("h1", {}, "Recordings"),
		el("p", { class: "lead" }, "Composite and individual participant recordings in a storage configuration's bucket, newest first. Play them here (HLS)."),
		el("div", { class: "panel" },
			el("div", { class: "row" }, field("Storage configuration", select), el("span", { class: "grow" }),
				el("button", { type: "button", class: "secondary", onclick: () => load(false) }, "Refresh")),
			info,
			el("table", {}, el("thead", {}, el("tr", {}, ["", "Recording", "Started", "Length", "State", ""].map((h) => el("th", {}, h)))), body),
			el("div", { class: "row" }, more)));
	guarded(async () => {
		const [sto, stages] = await Promise.all([api("ListStorageConfigurations", { maxResults: 100 }), api("ListStages", { maxResults: 100 })]);
		stageNames = Object.fromEntries((stages.stages || []).filter((s) => s.name).map((s) => [shortArn(s.arn), s.name]));
		const list = sto.storageConfigurations || [];
		if (!list.length) {
			body.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No storage configuration yet: create one under Configurations.")));
			return;
		}
		select.replaceChildren(...list.map((s) => el("option", { value: s.arn, selected: s.arn === storageArn }, (s.name || shortArn(s.arn)) + " — " + ((s.s3 && s.s3.bucketName) || ""))));
		load(false);
	});
}

// loadHls loads the hls.js the server embeds, once.
function loadHls() {
	loadHls.p = loadHls.p || new Promise((resolve, reject) => {
		const s = el("script", { src: "/console/assets/hls.min.js" });
		s.onload = () => resolve(window.Hls);
		s.onerror = () => {
			loadHls.p = null;
			reject(new Error("loading hls.js failed"));
		};
		document.head.append(s);
	});
	return loadHls.p;
}

// playRecording plays a recording's HLS in a dialog with the hls.js the
// server embeds (or natively where the browser plays HLS itself).
async function playRecording(storageArn, r) {
	const video = el("video", { class: "video", id: "recVideo", controls: true, playsinline: true });
	const detail = el("div", { class: "muted", id: "recDetail" }, "loading " + r.playlist);
	const src = mediaURL(storageArn, r.playlist);
	let hls = null;
	let closed = false;
	const close = () => {
		closed = true;
		if (hls) hls.destroy();
		video.removeAttribute("src");
	};
	modal("Recording " + (r.compositionId || r.participantId), close,
		video,
		el("div", { class: "row player" }, badge(r.state), el("span", { class: "grow" }, detail),
			el("a", { href: "/console/assets/hls.js-LICENSE.txt", target: "_blank", class: "muted" }, "hls.js licence")),
		el("p", { class: "muted mono" }, r.prefix));
	video.addEventListener("loadedmetadata", () => {
		detail.textContent = video.videoWidth + "×" + video.videoHeight + (isFinite(video.duration) ? ", " + duration(0, video.duration * 1000) : "");
	});
	const Hls = await loadHls().catch((e) => {
		detail.textContent = e.message;
		return null;
	});
	if (closed) return;
	if (Hls && Hls.isSupported()) {
		hls = new Hls({ enableWorker: false });
		hls.on(Hls.Events.ERROR, (_, d) => {
			if (d.fatal) detail.textContent = "cannot play: " + d.type + " " + d.details;
		});
		hls.loadSource(src);
		hls.attachMedia(video);
	} else if (video.canPlayType("application/vnd.apple.mpegurl")) {
		video.src = src;
	} else {
		detail.textContent = "this browser cannot play HLS";
		return;
	}
	video.play().catch(() => {});
}

// ---------------------------------------------------------------- start

// The header says while this browser publishes, whatever the page.
setInterval(() => {
	document.getElementById("live").hidden = !publisher;
}, 500);

window.addEventListener("hashchange", () => route());
document.addEventListener("DOMContentLoaded", async () => {
	document.getElementById("signOut").addEventListener("click", signOut);
	try {
		session = await request("GET", "/console/session");
	} catch (e) {
		session = null;
	}
	route();
});
