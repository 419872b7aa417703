/**
 * The pages of the devhost's sign-in stand-in (easyAuth.ts): plain HTML with its style inline, since the devhost
 * serves them itself, before and apart from the app, and their Content-Security-Policy allows nothing from elsewhere.
 */

export interface FieldProblem {
  readonly field: 'userId' | 'userDetails' | 'roles';
  readonly message: string;
}

/** What the sign-in form shows: fresh, or as sent back with what is wrong. */
export interface SignInView {
  readonly userId: string;
  readonly userDetails: string;
  /** As typed: comma-separated. */
  readonly roles: string;
  /** Where to go once signed in (already made safe). */
  readonly redirect: string;
  readonly problems: readonly FieldProblem[];
}

const STYLE = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; }
body { margin: 0; padding: 1rem; background: #f5f5f5; color: #1b1b1b; }
main { max-width: 30rem; margin: 0 auto; background: #fff; padding: 1rem 1.25rem 1.5rem; border-radius: 8px; }
h1 { font-size: 1.5rem; margin: 0.25rem 0 0.75rem; }
h2 { font-size: 1.1rem; margin: 0 0 0.5rem; }
.stand-in { margin: 0 0 1rem; padding: 0.5rem 0.75rem; border-left: 4px solid #005a9e; background: #eef5fb; }
label { display: block; font-weight: 600; margin-top: 1.25rem; }
.hint { margin: 0.125rem 0 0; font-size: 0.9rem; color: #404040; }
input { box-sizing: border-box; width: 100%; margin-top: 0.375rem; padding: 0.5rem; font: inherit; font-size: 1rem;
  border: 2px solid #5c5c5c; border-radius: 4px; background: #fff; color: inherit; }
input[aria-invalid="true"] { border-color: #a4262c; }
input:focus, button:focus, a:focus { outline: 3px solid #ffb900; outline-offset: 2px; }
.problem { margin: 0.25rem 0 0; color: #a4262c; font-weight: 600; }
.problems { margin: 0 0 1rem; padding: 0.75rem 1rem; border: 3px solid #a4262c; }
.problems ul { margin: 0; padding-left: 1.25rem; }
.problems a { color: #a4262c; }
button { margin-top: 1.5rem; padding: 0.625rem 1.5rem; font: inherit; font-weight: 600; color: #fff; background: #005a9e;
  border: 0; border-radius: 4px; cursor: pointer; }
button:hover { background: #004578; }
.after { margin: 1.25rem 0 0; font-size: 0.9rem; color: #404040; }
code { font-size: 0.9em; }
`;

const FIELDS: Readonly<Record<FieldProblem['field'], { readonly label: string; readonly hint: string }>> = {
  userId: {
    label: 'User id',
    hint: 'The Entra object id the app sees (x-ms-client-principal-id). A new random one is filled in: type an earlier one to sign in as that user again.',
  },
  userDetails: { label: 'Name or email', hint: 'Shown as the user’s name (x-ms-client-principal-name).' },
  roles: { label: 'Roles (optional)', hint: 'App roles, separated by commas: “admin” for an administrator. Leave empty for none.' },
};

/** The sign-in form; with problems, the same form with what was sent and what is wrong with it. */
export function renderSignInPage(view: SignInView): string {
  const problemsOf = (field: FieldProblem['field']) => view.problems.filter((problem) => problem.field === field);
  const input = (field: FieldProblem['field'], value: string, attributes: string) => {
    const problems = problemsOf(field);
    const describedBy = [`${field}-hint`, ...(problems.length > 0 ? [`${field}-problem`] : [])].join(' ');
    return [
      `<label for="${field}">${FIELDS[field].label}</label>`,
      `<p class="hint" id="${field}-hint">${escapeHtml(FIELDS[field].hint)}</p>`,
      ...(problems.length > 0
        ? [`<p class="problem" id="${field}-problem">${problems.map((problem) => escapeHtml(problem.message)).join(' ')}</p>`]
        : []),
      `<input id="${field}" name="${field}" value="${escapeHtml(value)}" aria-describedby="${describedBy}"${problems.length > 0 ? ' aria-invalid="true"' : ''} ${attributes}>`,
    ].join('\n');
  };
  const summary =
    view.problems.length === 0
      ? ''
      : `<div class="problems" role="alert" aria-labelledby="problems-title">
<h2 id="problems-title">Check what you entered</h2>
<ul>
${view.problems.map((problem) => `<li><a href="#${problem.field}">${escapeHtml(problem.message)}</a></li>`).join('\n')}
</ul>
</div>`;
  return page(
    `${view.problems.length > 0 ? 'Error: ' : ''}Sign in (devhost)`,
    `<h1>Sign in</h1>
<p class="stand-in">This is the devhost’s local stand-in for <strong>Microsoft Entra ID sign-in</strong>. There is no password and no real account: the app sees whoever you describe here, as App Service Authentication would pass a signed-in user to it.</p>
${summary}
<form method="post" action="/.auth/login/aad/callback" novalidate>
<input type="hidden" name="post_login_redirect_uri" value="${escapeHtml(view.redirect)}">
${input('userId', view.userId, 'required maxlength="128" autocomplete="off" autocapitalize="off" spellcheck="false"')}
${input('userDetails', view.userDetails, 'required maxlength="256" autocomplete="email" autocapitalize="off" spellcheck="false"')}
${input('roles', view.roles, 'autocomplete="off" autocapitalize="off" spellcheck="false"')}
<button type="submit">Sign in</button>
</form>
<p class="after">Signed in for 8 hours, or until <a href="/.auth/logout">sign-out</a>. <code>/.auth/me</code> shows who is signed in.</p>`,
  );
}

/** A page that says one thing, with the way back to the form. */
export function renderMessagePage(title: string, message: string): string {
  return page(
    `Error: ${title} (devhost)`,
    `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
<p><a href="/.auth/login/aad">Back to sign-in</a></p>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
