// Swagger UI over the service's own contract. validatorUrl: null keeps the page from calling
// swagger.io's validator, so /docs works with no internet.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: false,
  persistAuthorization: false,
});
