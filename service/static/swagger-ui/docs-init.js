// Swagger UI over one of the service's own contracts (the page names it in data-spec: /docs is
// the OpenAI API, /docs/anthropic the Anthropic Messages API). validatorUrl: null keeps the page
// from calling swagger.io's validator, so /docs works with no internet.
window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.spec || "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: false,
  persistAuthorization: false,
});
