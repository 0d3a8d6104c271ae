// The HTML of productpage: the book's details and its reviews with stars, one small self-contained
// page (inline CSS, no scripts or external assets). Each part it could not get is named as unavailable.
// Pure: productpage fetches, this renders.

/** What productpage got from a service: its JSON body, or why not. */
export type Fetched = { ok: true; body: Record<string, unknown> } | { ok: false; error: string };

export interface ProductPageView {
  details: Fetched;
  reviews: Fetched;
  /** The test user the page was asked for (undefined: anonymous). */
  user: string | undefined;
}

const TITLE = 'The Comedy of Errors';
const SUMMARY =
  "Wikipedia Summary: The Comedy of Errors is one of William Shakespeare's early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.";
const DETAIL_FIELDS = [
  ['type', 'Type'],
  ['pages', 'Pages'],
  ['publisher', 'Publisher'],
  ['language', 'Language'],
  ['ISBN-10', 'ISBN-10'],
  ['ISBN-13', 'ISBN-13'],
] as const;

const CSS = `
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f6f6f4}
header{background:#2b4a3a;color:#fff;padding:1.5rem 2rem}
header p{max-width:60rem;opacity:.85}
main{display:flex;flex-wrap:wrap;gap:2rem;padding:2rem}
section{background:#fff;border-radius:6px;padding:1rem 1.5rem;flex:1 1 20rem}
dt{font-weight:600}dd{margin:0 0 .5rem 0}
blockquote{margin:0 0 1rem 0;border-left:3px solid #2b4a3a;padding-left:1rem}
.stars{font-size:1.3rem;letter-spacing:.1rem}.stars-black{color:#111}.stars-red{color:#c0392b}
.unavailable{color:#a33;font-weight:600}.served{color:#555;font-size:.9rem}
footer{padding:0 2rem 2rem;color:#555}`;

export function renderProductPage(view: ProductPageView): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bookinfo: ${TITLE}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${TITLE}</h1><p>${escapeHtml(SUMMARY)}</p></header>
<main>
<section class="details"><h2>Book Details</h2>
${renderDetails(view.details)}
</section>
<section class="reviews"><h2>Book Reviews</h2>
${renderReviews(view.reviews)}
</section>
</main>
<footer>${renderUser(view.user)}</footer>
</body>
</html>
`;
}

function renderDetails(details: Fetched): string {
  if (!details.ok) return unavailable('Product details are unavailable', details.error);
  const b = details.body;
  const rows = [
    `<dt>Author</dt><dd>${escapeHtml(text(b.author))} (${escapeHtml(text(b.year))})</dd>`,
    ...DETAIL_FIELDS.map(([field, label]) => `<dt>${label}</dt><dd>${escapeHtml(text(b[field]))}</dd>`),
  ];
  return `<dl>${rows.join('')}</dl>`;
}

function renderReviews(reviews: Fetched): string {
  if (!reviews.ok) return unavailable('Product reviews are unavailable', reviews.error);
  const list = Array.isArray(reviews.body.reviews) ? (reviews.body.reviews as unknown[]) : [];
  const items = list.map((r) => {
    const review = (r ?? {}) as Record<string, unknown>;
    const rating = review.rating as { stars?: unknown; color?: unknown } | undefined;
    return `<blockquote><p>${escapeHtml(text(review.text))}</p><footer>${escapeHtml(text(review.reviewer))}</footer>${renderStars(rating)}</blockquote>`;
  });
  const version = text(reviews.body.version);
  const pod = text(reviews.body.podname);
  return `${items.join('\n')}\n<p class="served">Reviews served by reviews ${escapeHtml(version)} (${escapeHtml(pod)})</p>`;
}

function renderStars(rating: { stars?: unknown; color?: unknown } | undefined): string {
  if (rating === undefined) return '';
  const stars = Math.max(0, Math.min(5, Math.trunc(Number(rating.stars) || 0)));
  const color = rating.color === 'red' ? 'red' : 'black';
  const label = `${stars} out of 5 stars`;
  return `<div class="stars stars-${color}" role="img" aria-label="${label}">${'★'.repeat(stars)}${'☆'.repeat(5 - stars)}</div>`;
}

function renderUser(user: string | undefined): string {
  if (user === undefined) return 'Browsing anonymously. <a href="?user=jason">View as jason</a>';
  return `Signed in as <strong>${escapeHtml(user)}</strong>. <a href="?user=">Sign out</a>`;
}

function unavailable(what: string, error: string): string {
  return `<p class="unavailable">${what}.</p><p class="served">${escapeHtml(error)}</p>`;
}

function text(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
