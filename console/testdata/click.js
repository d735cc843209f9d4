// Clicks the first button of the class the page's ?button= names, once the
// page shows one: for screenshots of the dialogs buttons open.
"use strict";

(() => {
	const cls = new URLSearchParams(location.search).get("button");
	const t = setInterval(() => {
		const b = document.querySelector("button." + cls);
		if (b) {
			clearInterval(t);
			b.click();
		}
	}, 50);
})();
