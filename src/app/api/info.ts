// Page API: what the page renders with (for run metadata).
export const infoApi = {
  async rendererInfo(): Promise<Record<string, unknown>> {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2');
    const dbg = gl?.getExtension('WEBGL_debug_renderer_info');
    const out: Record<string, unknown> = {
      engine: 'babylon webgl2',
      userAgent: navigator.userAgent,
      webglVendor: gl && dbg ? gl.getParameter(dbg.UNMASKED_VENDOR_WEBGL) : gl?.getParameter(gl.VENDOR) ?? null,
      webglRenderer: gl && dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl?.getParameter(gl.RENDERER) ?? null,
      webgpu: 'gpu' in navigator,
    };
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown> } | null> } }).gpu;
    if (gpu) {
      try {
        const a = await gpu.requestAdapter();
        out.webgpuAdapter = a?.info ? { vendor: a.info.vendor, architecture: a.info.architecture, description: a.info.description } : null;
      } catch (e) {
        out.webgpuAdapter = { error: (e as Error).message };
      }
    }
    return out;
  },
};
