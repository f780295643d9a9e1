// Share pages: copy the link, open the phone's own share sheet, and say when a link stops working in the person's
// own time zone and words. Without JavaScript the link can still be selected and copied by hand, and the date shows.
const url = document.getElementById("share-url");
// The page's own words in its language (share/manage.html's #share-words, from the gettext catalogs); else English.
const wordsTemplate = document.getElementById("share-words");
const text = {
  select: "Select the link above and copy it.", copied: "Link copied. Paste it into a message or an email to your doctor.",
  title: "My muscle pain summary", about: "My answers and result, to read before my appointment.",
  ...JSON.parse((wordsTemplate && wordsTemplate.content.textContent) || "{}"),
};
const said = document.getElementById("share-said");

function say(text) {
  if (said) said.textContent = text;
}

const copy = document.getElementById("copy-link");
if (url && copy) {
  copy.hidden = false;
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(url.value);
    } catch {
      url.select();  // an older browser: select the link so the person can copy it
      if (!document.execCommand("copy")) return say(text.select);
    }
    say(text.copied);
  });
}

const share = document.getElementById("share-link");
if (url && share && navigator.share) {
  share.hidden = false;
  share.addEventListener("click", () => {
    navigator.share({title: text.title, text: text.about, url: url.value})
      .catch(() => {});  // the person closed the share sheet: nothing to say
  });
}

// In the page's language as the phone writes it (en-GB: day before month, 24-hour), with its time zone named.
const language = document.documentElement.lang || "en";
const locale = (navigator.languages || []).find((tag) => tag.split("-")[0] === language) || language;
const words = new Intl.DateTimeFormat(locale, {weekday: "long", day: "numeric", month: "long", year: "numeric",
                                               hour: "numeric", minute: "2-digit", timeZoneName: "short"});
for (const time of document.querySelectorAll("time[data-local]")) {
  const moment = new Date(time.dateTime);
  if (!Number.isNaN(moment.getTime())) time.textContent = words.format(moment);
}
